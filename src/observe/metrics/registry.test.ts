import assert from 'node:assert/strict'
import { test } from 'node:test'
import { StepMetrics } from '../../core/metrics.ts'
import { JOB_METRICS, STEP_METRICS, jobValue, stepValue } from './catalog.ts'
import { MetricsRegistry } from './registry.ts'
import { summaryRows, summaryTotals } from './summary-view.ts'

function fixedClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => void (t += ms) }
}

/** A worker thread's registry running subtask `subtask` of a source and a keyed step. */
function worker(thread: number, subtask: number, records: number, watermark: number, lag: number): MetricsRegistry {
  const r = new MetricsRegistry({ pipeline: 'p', thread })
  const src = r.step('source-gen-1', 'source-gen', subtask)
  src.recordsIn = records
  src.recordsOut = records
  src.watermark = watermark
  const agg = r.step('count', 'keyed-aggregate', subtask)
  agg.recordsIn = records
  agg.late = 1
  agg.watermark = watermark
  agg.inputLagMs = lag
  agg.stateKeys = 10
  return r
}

test('step() gets or creates: the same object is updated in place and read live', () => {
  const r = new MetricsRegistry({ pipeline: 'p' })
  const m = r.step('map-1', 'map', 0)
  assert.equal(r.step('map-1', 'map', 0), m)
  assert.notEqual(r.step('map-1', 'map', 1), m)
  m.recordsIn += 5
  assert.equal(r.snapshot().steps[0].recordsIn, 5)
  m.recordsIn += 5
  assert.equal(r.snapshot().steps[0].recordsIn, 10)
  assert.equal(m.subtask, 0)
  assert.equal(r.step('map-1', 'map', 1).subtask, 1)
})

test('new gauges start unknown: watermark -Infinity, lag NaN; toJSON keeps its form', () => {
  const m = new StepMetrics('s', 'map')
  assert.equal(m.watermark, -Infinity)
  assert.ok(Number.isNaN(m.inputLagMs))
  assert.deepEqual(m.toJSON(), { step: 's', kind: 'map', in: 0, out: 0, late: 0, errors: 0, dropped: 0 })
  m.bytesIn = 100
  m.retries = 2
  assert.deepEqual(m.toJSON(), { step: 's', kind: 'map', in: 0, out: 0, late: 0, errors: 0, dropped: 0, retries: 2 })
})

test('totals: counters and state summed over subtasks, watermark the minimum, lag the maximum', () => {
  const main = new MetricsRegistry({ pipeline: 'p' })
  main.absorb(1, worker(1, 0, 100, 5_000, 20).export())
  main.absorb(2, worker(2, 1, 50, 3_000, 70).export())
  const s = main.snapshot()
  assert.deepEqual(s.steps.map((t) => t.step), ['source-gen-1', 'count'])
  const count = s.steps[1]
  assert.equal(count.subtasks, 2)
  assert.equal(count.recordsIn, 150)
  assert.equal(count.late, 2)
  assert.equal(count.stateKeys, 20)
  assert.equal(count.watermark, 3_000)
  assert.equal(count.inputLagMs, 70)
  assert.deepEqual(s.subtasks.map((x) => `${x.step}/${x.subtask}`), ['source-gen-1/0', 'source-gen-1/1', 'count/0', 'count/1'])
})

test('the watermark of a step is -Infinity while one subtask has none; lag ignores unknown subtasks', () => {
  const r = new MetricsRegistry({ pipeline: 'p' })
  const a = r.step('w', 'window', 0)
  const b = r.step('w', 'window', 1)
  a.watermark = 10
  a.inputLagMs = 5
  assert.equal(r.snapshot().steps[0].watermark, -Infinity)
  assert.equal(r.snapshot().steps[0].inputLagMs, 5)
  b.watermark = 7
  assert.equal(r.snapshot().steps[0].watermark, 7)
  a.inputLagMs = NaN
  assert.ok(Number.isNaN(r.snapshot().steps[0].inputLagMs))
})

test('absorb replaces what a source reported last, never adds to it', () => {
  const main = new MetricsRegistry({ pipeline: 'p' })
  const w = worker(1, 0, 100, 5_000, 20)
  main.absorb(1, w.export())
  w.step('count', 'keyed-aggregate', 0).recordsIn = 250
  main.absorb(1, w.export())
  assert.equal(main.snapshot().steps[1].recordsIn, 250)
  assert.equal(main.snapshot().steps[1].subtasks, 1)
  // A report without a subtask it sent before no longer counts it.
  main.absorb(1, { ...w.export(), subtasks: w.export().subtasks.filter((x) => x.step !== 'count') })
  assert.equal(main.snapshot().steps[1].subtasks, 0)
})

test('local and absorbed subtasks both count; the same (step, subtask) from two threads counts once', () => {
  const main = new MetricsRegistry({ pipeline: 'p' })
  main.step('count', 'keyed-aggregate', 0).recordsIn = 1
  main.absorb(1, worker(1, 1, 100, 0, 0).export())
  assert.equal(main.snapshot().steps.find((t) => t.step === 'count')!.recordsIn, 101)
  main.absorb(2, worker(2, 1, 40, 0, 0).export())
  assert.equal(main.snapshot().steps.find((t) => t.step === 'count')!.recordsIn, 41)
})

test('declare() fixes the plan order and gives a step a row before it reports', () => {
  const main = new MetricsRegistry({ pipeline: 'p' })
  for (const [id, kind] of [['source-gen-1', 'source-gen'], ['count', 'keyed-aggregate'], ['sink-log-1', 'sink-log']]) main.declare(id, kind)
  main.step('sink-log-1', 'sink-log', 0).recordsIn = 3
  main.absorb(1, worker(1, 0, 10, 0, 0).export())
  const s = main.snapshot()
  assert.deepEqual(s.steps.map((t) => [t.step, t.subtasks]), [['source-gen-1', 1], ['count', 1], ['sink-log-1', 1]])
  assert.deepEqual(new MetricsRegistry({ pipeline: 'p' }).snapshot().steps, [])
})

test('export and absorb survive structuredClone (what postMessage does), gauges at -Infinity and NaN included', () => {
  const w = new MetricsRegistry({ pipeline: 'p', thread: 3 })
  w.step('fresh', 'map', 2)
  const sent = structuredClone(w.export())
  assert.equal(sent.thread, 3)
  assert.equal(sent.subtasks[0].watermark, -Infinity)
  assert.ok(Number.isNaN(sent.subtasks[0].inputLagMs))
  const main = new MetricsRegistry({ pipeline: 'p' })
  main.absorb(3, sent)
  assert.deepEqual(main.snapshot().subtasks, w.snapshot().subtasks)
  // The export is a copy: later updates in the worker do not reach what was sent.
  w.step('fresh', 'map', 2).recordsIn = 9
  assert.equal(sent.subtasks[0].recordsIn, 0)
})

test('a snapshot is a copy: changing it changes nothing in the registry or in later snapshots', () => {
  const main = new MetricsRegistry({ pipeline: 'p' })
  main.step('a', 'map', 0).recordsIn = 1
  const data = worker(1, 0, 10, 0, 0).export()
  main.absorb(1, data)
  const s = main.snapshot()
  s.steps[0].recordsIn = 999
  s.subtasks[0].recordsIn = 999
  s.subtasks.find((x) => x.step === 'count')!.recordsIn = 999
  s.checkpoints.completed = 999
  s.steps.length = 0
  const again = main.snapshot()
  assert.equal(again.steps[0].recordsIn, 1)
  assert.equal(again.steps.find((t) => t.step === 'count')!.recordsIn, 10)
  assert.equal(again.checkpoints.completed, 0)
  assert.equal(main.step('a', 'map', 0).recordsIn, 1)
  assert.equal(data.subtasks.find((x) => x.step === 'count')!.recordsIn, 10)
})

test('job-level figures: status, start, restarts and checkpoints, with takenAt from the clock', () => {
  const clock = fixedClock(5_000)
  const r = new MetricsRegistry({ pipeline: 'p', now: clock.now })
  clock.advance(250)
  r.status = 'running'
  r.restarts++
  r.checkpointCompleted({ id: 4, bytes: 2048, syncMs: 3, asyncMs: 20, alignmentMs: 1, delta: true })
  r.checkpoints.failed++
  const s = r.snapshot()
  assert.equal(s.startedAt, 5_000)
  assert.equal(s.takenAt, 5_250)
  assert.equal(s.status, 'running')
  assert.equal(s.restarts, 1)
  assert.deepEqual({ ...s.checkpoints }, {
    completed: 1, failed: 1, deltas: 1, restored: 0, lastId: 4, lastDurationMs: 24, lastBytes: 2048, lastAlignmentMs: 1, lastSyncMs: 3, lastAsyncMs: 20, lastDelta: true, restoredFrom: null, restoreMs: null,
  })
})

test('the summary is a view of the registry: rows as StepMetrics.toJSON gives them, totals over sources', () => {
  const main = new MetricsRegistry({ pipeline: 'p' })
  main.absorb(1, worker(1, 0, 100, 5_000, 0).export())
  main.absorb(2, worker(2, 1, 50, 3_000, 0).export())
  main.step('count', 'keyed-aggregate', 2).retries = 3
  const s = main.snapshot()
  assert.deepEqual(summaryRows(s), [
    { step: 'source-gen-1', kind: 'source-gen', in: 150, out: 150, late: 0, errors: 0, dropped: 0 },
    { step: 'count', kind: 'keyed-aggregate', in: 150, out: 0, late: 2, errors: 0, dropped: 0, retries: 3 },
  ])
  assert.deepEqual(summaryTotals(s), { recordsIn: 150, watermark: 3_000, late: 2, errors: 0, dropped: 0 })
  // One subtask's rows match what that subtask's StepMetrics says of itself.
  const one = new MetricsRegistry({ pipeline: 'p' })
  const m = one.step('x', 'map', 0)
  m.recordsIn = 4
  m.dropped = 1
  assert.deepEqual(summaryRows(one.snapshot()), [m.toJSON()])
})

test('metric metadata: every figure has one entry, names are valid and unique, ms become seconds', () => {
  const figures = Object.keys(new StepMetrics('s', 'k').values()).filter((f) => !['step', 'kind', 'subtask', 'recordsBefore', 'input', 'latency', 'consumerLag', 'hotKeys', 'violations'].includes(f)) // recordsBefore and input feed the progress line; latency and consumerLag have their own series (histograms.ts, exposition.ts)
  assert.deepEqual(STEP_METRICS.map((m) => m.field).sort(), figures.sort())
  const all = [...STEP_METRICS, ...JOB_METRICS]
  assert.equal(new Set(all.map((m) => m.name)).size, all.length)
  for (const m of all) {
    assert.match(m.name, /^sluice_[a-z_]+$/)
    assert.equal(m.type === 'counter', m.name.endsWith('_total'), m.name)
    if (m.unit === 'seconds') assert.match(m.name, /_seconds(_total)?$/, m.name)
    if (m.unit === 'bytes') assert.match(m.name, /_bytes(_total)?$/, m.name)
  }
  const r = new MetricsRegistry({ pipeline: 'p', now: () => 2_000 })
  const sub = r.step('s', 'map', 0)
  sub.backpressureMs = 1500
  r.checkpointCompleted({ id: 1, bytes: 10, syncMs: 100, asyncMs: 400, alignmentMs: 0 })
  const s = r.snapshot()
  assert.equal(stepValue(s.subtasks[0], STEP_METRICS.find((m) => m.field === 'backpressureMs')!), 1.5)
  assert.equal(jobValue(s, JOB_METRICS.find((m) => m.field === 'checkpoints.lastDurationMs')!), 0.5)
  assert.equal(jobValue(s, JOB_METRICS.find((m) => m.field === 'startedAt')!), 2)
  assert.equal(jobValue(s, JOB_METRICS.find((m) => m.field === 'status')!), 1)
})
