import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OperatorHarness } from '../../testing/operator-harness.ts'
import { expect, type Expectation } from './expectations.ts'
import { ExpectOperator } from './expect-operator.ts'
import type { QualityResult } from './window-checks.ts'

const harness = (expectations: Expectation[], windowMs: number | undefined, onError: 'fail' | 'error-output' = 'error-output') =>
  new OperatorHarness((ctx) => new ExpectOperator({ expectations, windowMs, keyGroups: 128 }, ctx), { stepId: 'check', onError })
const results = (h: OperatorHarness) => h.takeSide('quality').map((r) => r.value as QualityResult)

test('drop removes the failing records and sends them to the error path with the rule; warn only counts', () => {
  const h = harness([expect.inRange('price', { min: 0 }, 'drop'), expect.notNull('name')], 100)
  h.push([{ value: { price: 1, name: 'a' }, time: 10 }, { value: { price: -1, name: 'b' }, time: 20 }, { value: { price: 2 }, time: 30 }])
  assert.deepEqual(h.takeValues(), [{ price: 1, name: 'a' }, { price: 2 }])
  assert.deepEqual(h.takeErrors().map((e) => [e.step, e.error, e.record]), [['check', "expectation 'price:inRange' failed: the record is dropped (step 'check')", { price: -1, name: 'b' }]])
  h.watermark(100)
  assert.deepEqual(results(h).map((r) => [r.expectation, r.windowStart, r.windowEnd, r.passed, r.checked, r.failed]), [
    ['price:inRange', 0, 100, false, 3, 1],
    ['name:notNull', 0, 100, false, 2, 1],
  ])
})

test('fail stops at the first failing record (record checks) or at the end of the window (window checks)', () => {
  const h = harness([expect.notNull('id', 'fail')], undefined)
  assert.throws(() => h.push([{ value: { id: 1 }, time: 1 }, { value: {}, time: 2 }]), /expectation 'id:notNull' failed on the record/)
  const w = harness([expect.rowCount({ min: 3 }, 'fail')], 10)
  w.push([{ value: {}, time: 1 }, { value: {}, time: 2 }, { value: {}, time: 11 }, { value: {}, time: 12 }, { value: {}, time: 13 }])
  assert.throws(() => w.watermark(10), (e: Error & { code?: string }) => e.code === 'SLUICE_EXPECTATION_FAILED' && /window \[0, 10\): \{"count":2\}/.test(e.message))
})

test('state survives a checkpoint: a window half full before the snapshot counts everything after the restore', () => {
  const h = harness([expect.unique('id'), expect.distribution('x', { mean: { max: 10 } }), expect.rowCount({ max: 4 })], undefined)
  h.push([{ value: { id: 1, x: 1 }, time: 1 }, { value: { id: 2, x: 3 }, time: 2 }])
  h.snapshotAndRestore()
  h.push([{ value: { id: 1, x: 5 }, time: 3 }, { value: { id: 3, x: 7 }, time: 4 }, { value: { id: 3, x: 9 }, time: 5 }])
  h.end()
  assert.deepEqual(results(h).map((r) => [r.expectation, r.windowStart, r.passed, r.checked, r.failed, r.observed]), [
    ['id:unique', null, false, 5, 2, { checked: 5, failed: 2 }],
    ['x:distribution', null, true, 5, 0, { count: 5, mean: 5, stddev: Math.sqrt(10) }],
    ['rowCount', null, false, 5, 0, { count: 5 }],
  ])
})

test('over the whole run, an empty input still gets its results: a row count of 0 fails rowCount({ min: 1 })', () => {
  const h = harness([expect.rowCount({ min: 1 }), expect.notNull('id')], undefined)
  h.end()
  assert.deepEqual(results(h).map((r) => [r.expectation, r.windowStart, r.passed, r.observed]), [
    ['rowCount', null, false, { count: 0 }],
    ['id:notNull', null, true, { checked: 0, failed: 0 }],
  ])
  const f = harness([expect.rowCount({ min: 1 }, 'fail')], undefined)
  assert.throws(() => f.end(), (e: Error & { code?: string }) => e.code === 'SLUICE_EXPECTATION_FAILED' && /for the run: \{"count":0\}/.test(e.message))
})

test("a distribution against the previous window: the first passes, a drift fails, and the baseline survives a checkpoint", () => {
  const h = harness([expect.distribution('x', { baseline: 'previous', tolerance: 0.1 })], 10)
  h.push([{ value: { x: 10 }, time: 1 }, { value: { x: 12 }, time: 2 }])
  h.watermark(10)
  h.snapshotAndRestore()
  h.push([{ value: { x: 11 }, time: 11 }, { value: { x: 13 }, time: 12 }])
  h.watermark(20)
  h.push([{ value: { x: 30 }, time: 21 }, { value: { x: 32 }, time: 22 }])
  h.watermark(30)
  assert.deepEqual(results(h).map((r) => [r.windowStart, r.passed, r.observed.mean, r.observed.baselineMean ?? null]), [
    [0, true, 11, null],
    [10, true, 12, 11],
    [20, false, 31, 12],
  ])
})
