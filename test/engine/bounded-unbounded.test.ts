import { test } from 'node:test'
import assert from 'node:assert/strict'
import { agg, pipeline, run, sink, source, watermark, window, type Stream, type WindowResult } from '../../src/index.ts'
import { scripted } from './scripted-source.ts'

interface Ev {
  user: number
  amount: number
  ts: number
}

const make = (seq: number, rnd: () => number): Ev => ({ user: Math.floor(rnd() * 7), amount: Math.floor(rnd() * 100), ts: seq * 37 - Math.floor(rnd() * 500) })

type Result = WindowResult<number, { n: number; total: number }>

function windows(s: Stream<Ev>): Stream<Result> {
  return s
    .keyBy((e) => e.user)
    .window(window.sliding({ size: 2000, slide: 500 }))
    .aggregate(agg.fields({ n: agg.count<Ev>(), total: agg.sum<Ev>((e) => e.amount) }))
}

const id = (r: Result) => `${r.key}@${r.start}`
const sorted = (rs: Result[]) => [...rs].sort((a, b) => id(a).localeCompare(id(b)))

test('an unbounded run stopped after its last record gives the bounded results for every window its watermark closed', async () => {
  const count = 5000
  const opts = { eventTime: (e: Ev) => e.ts, watermark: watermark.boundedOutOfOrder(600), partitions: 2 }

  // Bounded: the generator with a count.
  const bounded = sink.collect<Result>()
  const p1 = pipeline('bounded', { batchSize: 100 })
  windows(p1.from(source.generator<Ev>({ ...opts, count, seed: 7, make: (g) => make(g.seq, () => g.random()) }))).to(bounded)
  const s1 = await run(p1)
  assert.equal(s1.late, 0)

  // The same records, split as the generator splits them, from a source that never ends: it returns
  // null once it has nothing left, and the test stops the run then.
  const reader = await source.generator<Ev>({ ...opts, count, seed: 7, make: (g) => make(g.seq, () => g.random()) }).open({} as never)
  const byPart: Ev[][] = [[], []]
  for (let p = 0; p < 2; p++) {
    for (;;) {
      const r = await reader.read(p, 100)
      if (typeof r !== 'object' || r === null) break
      byPart[p].push(...r.values)
    }
  }
  assert.equal(byPart[0].length + byPart[1].length, count)
  const next = [0, 0]
  const stop = new AbortController()
  const unbounded = sink.collect<Result>()
  const p2 = pipeline('unbounded', { batchSize: 100 })
  const endless = scripted<Ev>(
    2,
    (p, max) => {
      const out = byPart[p].slice(next[p], next[p] + max)
      next[p] += out.length
      if (out.length === 0 && next[0] === byPart[0].length && next[1] === byPart[1].length) stop.abort()
      return out.length > 0 ? out : null
    },
    opts,
  )
  windows(p2.from(endless)).to(unbounded)
  const s = await run(p2, { signal: stop.signal })
  assert.equal(s.status, 'stopped')
  assert.equal(s.recordsIn, count)
  assert.equal(s.late, 0)
  assert.ok(Number.isFinite(s.watermark))
  const closed = bounded.values.filter((r) => r.end - 1 <= s.watermark)
  assert.ok(closed.length > 100, 'most windows closed before the stop')
  assert.ok(closed.length < bounded.values.length, 'some windows were still open')
  assert.deepEqual(sorted(unbounded.values), sorted(closed))
  assert.ok(unbounded.records.every((r) => r.kind === '+I'))
})
