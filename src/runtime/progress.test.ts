import { test } from 'node:test'
import assert from 'node:assert/strict'
import { progressOf } from './progress.ts'

const step = (step: string, kind: string, n: number, input?: { done: number; total: number; before: number }, before?: number) => ({ step, kind, in: n, out: n, late: 0, errors: 0, dropped: 0, ...(input ? { input } : {}), ...(before ? { before } : {}) })

test('progress sums the threads: records this run from the sources, the total with earlier runs, bytes of bounded sources', () => {
  const reports = [
    { steps: [step('source-jsonl-1', 'source-jsonl', 900, { done: 700, total: 1000, before: 400 }, 600), step('map-1', 'map', 300)], recordsIn: 900, watermark: 5_000 },
    { steps: [step('source-jsonl-1', 'source-jsonl', 100, { done: 500, total: 500, before: 0 }), step('map-1', 'map', 100)], recordsIn: 100, watermark: 4_000 },
  ]
  assert.deepEqual(progressOf(reports, 10_000, 2000), {
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
  const p = progressOf([{ steps: [step('source-generator-1', 'source-generator', 0)], recordsIn: 0, watermark: -Infinity }], 10, 0)
  assert.equal(p.input, undefined)
  assert.equal(p.recordsPerSecond, 0)
  assert.ok(Number.isNaN(p.lagMs))
})
