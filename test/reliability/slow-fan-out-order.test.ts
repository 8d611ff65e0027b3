// A slow user function after a fan-out pauses its batches (the event loop gets in) without changing what any
// step downstream sees: two branches of one source meet in a join and a union, and a keyed aggregate (whose
// changelog depends on batch boundaries) counts the join's output. The output, in order, is that of a run where
// nothing is slow, however many pauses the machine's speed makes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pipeline, run, sink, source } from '../../src/index.ts'

interface Click {
  seq: number
  user: number
}

async function once(slowMs: number): Promise<{ out: unknown[]; turnsWhileSlow: number }> {
  const clicks = Array.from({ length: 3000 }, (_, seq) => ({ seq, user: (seq * 7919) % 37 }))
  let ticks = 0
  let ticksAtFirst = -1
  let ticksAtLast = -1
  const timer = setInterval(() => ticks++, 2)
  const joined = sink.collect<unknown>()
  const p = pipeline('slow-fan-out', { batchSize: 512 })
  const events = p.from(source.collection(clicks, { eventTime: (c) => c.seq }))
  const odd = events
    .filter((c) => c.seq % 2 === 1)
    .map((c) => {
      // Slow for a stretch of records: 1 ms each (so over 50 ms in a row, whatever the machine).
      if (slowMs > 0 && c.seq >= 1101 && c.seq < 1401) {
        if (ticksAtFirst < 0) ticksAtFirst = ticks
        ticksAtLast = ticks
        const until = performance.now() + slowMs
        while (performance.now() < until) {
          // blocks the thread
        }
      }
      return c
    })
  // The slow branch is the source's first consumer: were its pause to let the delivery go on, the even
  // records of the same batch would reach the join and the union first.
  const even = events.filter((c) => c.seq % 2 === 0)
  const pairs = even.keyBy((c) => c.seq >> 1).join(odd.keyBy((c) => c.seq >> 1), { ttl: '1h' }, (a: Click, b: Click) => ({ pair: a.seq >> 1, user: a.user, other: b.user }))
  const tagged = (from: string) => (x: object): Record<string, unknown> => ({ from, ...x })
  pairs.map(tagged('join')).union(even.map(tagged('even')), odd.map(tagged('odd'))).to(joined)
  // The source's batches also go straight into a union with the slow branch (a step that never pauses).
  const merged = sink.collect<Click>()
  odd.union(events).to(merged)
  const counted = sink.collect<unknown>()
  pairs
    .keyBy((x) => x.user % 5)
    .reduce((a, b) => ({ ...a, pair: a.pair + b.pair }))
    .to(counted)
  try {
    await run(p)
  } finally {
    clearInterval(timer)
  }
  return { out: [joined.values, counted.values, merged.values], turnsWhileSlow: ticksAtLast - ticksAtFirst }
}

test('a fan-out into a join and a union where one branch is slow: the same output, in the same order, as a run where nothing is', { timeout: 120_000 }, async () => {
  const fast = await once(0)
  const slow = await once(1)
  assert.ok(slow.turnsWhileSlow > 0, 'the event loop turned while the slow branch ran (its batches paused)')
  assert.deepEqual(slow.out, fast.out)
})
