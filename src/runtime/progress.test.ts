import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MetricsRegistry } from '../observe/metrics/registry.ts'
import { progressOf } from './progress.ts'

function thread(n: number, records: number, watermark: number, input?: { done: number; total: number; before: number }, before = 0): MetricsRegistry {
  const r = new MetricsRegistry({ pipeline: 'p', thread: n })
  const src = r.step('source-jsonl-1', 'source-jsonl', n)
  src.recordsIn = records
  src.recordsBefore = before
  src.watermark = watermark
  src.input = input
  const map = r.step('map-1', 'map', n)
  map.recordsIn = records
  return r
}

test('progress sums the threads: records this run from the sources, the total with earlier runs, bytes of bounded sources', () => {
  const main = new MetricsRegistry({ pipeline: 'p', now: () => 10_000 })
  main.absorb(1, thread(0, 900, 5_000, { done: 700, total: 1000, before: 400 }, 600).export())
  main.absorb(2, thread(1, 100, 4_000, { done: 500, total: 500, before: 0 }).export())
  assert.deepEqual(progressOf(main.snapshot(), 2000), {
    recordsIn: 1000,
    recordsThisRun: 400,
    recordsPerSecond: 200,
    watermark: 4_000,
    lagMs: 6_000,
    elapsedMs: 2000,
    input: { done: 1200, total: 1500, before: 400 },
  })
})

test('without a measurable source there is no input figure, and no watermark yet means no lag', () => {
  const main = new MetricsRegistry({ pipeline: 'p', now: () => 10 })
  main.absorb(1, thread(0, 0, -Infinity).export())
  const p = progressOf(main.snapshot(), 0)
  assert.equal(p.input, undefined)
  assert.equal(p.recordsPerSecond, 0)
  assert.equal(p.recordsThisRun, 0)
  assert.ok(Number.isNaN(p.lagMs))
})
