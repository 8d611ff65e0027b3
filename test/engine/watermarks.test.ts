import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock, pipeline, run, sink, source, watermark, window, type WindowResult } from '../../src/index.ts'
import { END, scripted } from './scripted-source.ts'

interface Ev {
  side: string
  ts: number
}

const counts = (rs: { value: WindowResult<number, number> }[]) => rs.map((r) => [r.value.start, r.value.value])

test('the watermark of a union is the minimum of its inputs: a window fires once both passed its end', async () => {
  // The fast input runs ahead to 35 at once; the slow one yields nothing for a while, then 2 and 12.
  const fast: (Ev[] | typeof END)[] = [[{ side: 'fast', ts: 1 }], [{ side: 'fast', ts: 15 }], [{ side: 'fast', ts: 35 }], END]
  const slowScript: (Ev[] | null | typeof END)[] = [null, null, null, null, null, [{ side: 'slow', ts: 2 }], [{ side: 'slow', ts: 12 }], END]
  let slowReads = 0
  const log: { window: number; slowReads: number }[] = []
  const p = pipeline('union', { batchSize: 1 })
  const a = p.from(scripted<Ev>(1, () => (fast.length > 0 ? fast.shift()! : END), { eventTime: (e) => e.ts }))
  const b = p.from(
    scripted<Ev>(
      1,
      () => {
        slowReads++
        return slowScript.length > 0 ? slowScript.shift()! : END
      },
      { eventTime: (e) => e.ts },
    ),
  )
  const out = sink.collect<WindowResult<number, number>>()
  const w = a
    .union(b)
    .keyBy(() => 0)
    .window(window.tumbling({ size: 10 }))
    .count()
  w.to(out)
  w.map((r) => log.push({ window: r.start, slowReads })).to(sink.blackhole())
  const late = sink.collect<unknown>()
  w.sideOutput('late').to(late)
  const s = await run(p)
  assert.equal(s.late, 0)
  assert.deepEqual(late.values, [])
  assert.deepEqual(counts(out.records), [
    [0, 2],
    [10, 2],
    [30, 1],
  ])
  // [0, 10) closed only after the slow input delivered 12 (its watermark 11); [10, 20) only at its end.
  assert.deepEqual(log, [
    { window: 0, slowReads: 7 },
    { window: 10, slowReads: 8 },
    { window: 30, slowReads: 8 },
  ])
})

/**
 * Partition 0 yields one record per read, 100 ms of event time apart, moving the clock 100 ms per read;
 * partition 1 never yields anything and never ends.
 */
function halfSilent(clock: ManualClock, n: number, idleTimeout: string | undefined, onExhausted: () => void) {
  let i = 0
  return scripted<Ev>(
    2,
    (p) => {
      if (p === 1) return null
      if (i >= n) {
        onExhausted()
        return null
      }
      clock.advance(100)
      return [{ side: 'busy', ts: 100 * i++ }]
    },
    { eventTime: (e) => e.ts, watermark: watermark.monotonic(), ...(idleTimeout !== undefined ? { idleTimeout } : {}) },
  )
}

test('an idle partition stops holding back the watermark once idleTimeout passes', async () => {
  const clock = new ManualClock(0)
  const stop = new AbortController()
  const out = sink.collect<WindowResult<number, number>>()
  const p = pipeline('idle', { batchSize: 10 })
  p.from(halfSilent(clock, 50, '1s', () => stop.abort()))
    .keyBy(() => 0)
    .window(window.tumbling({ size: 1000 }))
    .count()
    .to(out)
  const s = await run(p, { clock, signal: stop.signal })
  assert.equal(s.status, 'stopped')
  // Events 0..4900: the windows up to [3000, 4000) closed; [4000, 5000) waits for a later watermark.
  assert.deepEqual(counts(out.records), [
    [0, 10],
    [1000, 10],
    [2000, 10],
    [3000, 10],
  ])
  assert.equal(s.watermark, 4899)
})

test('without idleTimeout a silent partition holds the watermark back', async () => {
  const clock = new ManualClock(0)
  const stop = new AbortController()
  const out = sink.collect<WindowResult<number, number>>()
  const p = pipeline('not-idle', { batchSize: 10 })
  p.from(halfSilent(clock, 50, undefined, () => stop.abort()))
    .keyBy(() => 0)
    .window(window.tumbling({ size: 1000 }))
    .count()
    .to(out)
  const s = await run(p, { clock, signal: stop.signal })
  assert.equal(s.status, 'stopped')
  assert.deepEqual(out.records, [])
  assert.equal(s.watermark, -Infinity)
})

test('a partition that was idle and resumes holds the watermark again', async () => {
  const clock = new ManualClock(0)
  const stop = new AbortController()
  const out = sink.collect<WindowResult<number, number>>()
  let i = 0
  let resumed = false
  const src = scripted<Ev>(
    2,
    (p) => {
      if (p === 1) {
        // Silent (and idle) until partition 0 reached 4000, then one record at 3500: the watermark is then
        // 3999 at most, so [3000, 4000) has not closed and counts it.
        if (i >= 40 && !resumed) {
          resumed = true
          return [{ side: 'quiet', ts: 3500 }]
        }
        return null
      }
      if (i >= 60) {
        stop.abort()
        return null
      }
      clock.advance(100)
      return [{ side: 'busy', ts: 100 * i++ }]
    },
    { eventTime: (e) => e.ts, idleTimeout: '1s' },
  )
  const p = pipeline('resume', { batchSize: 10 })
  p.from(src)
    .keyBy(() => 0)
    .window(window.tumbling({ size: 1000 }))
    .count()
    .to(out)
  const s = await run(p, { clock, signal: stop.signal })
  // Partition 1 resumed at 3500 (watermark 3499) and then went silent again: after another second of
  // silence it is idle once more, and the watermark follows partition 0 to 5899.
  assert.deepEqual(counts(out.records), [
    [0, 10],
    [1000, 10],
    [2000, 10],
    [3000, 11],
    [4000, 10],
  ])
  assert.equal(s.watermark, 5899)
})
