import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { OperatorHarness, type HarnessInput, type HarnessRecord } from '../../testing/operator-harness.ts'
import { materialize } from '../../connectors/memory/collect-sink.ts'
import { DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE } from '../../core/batch.ts'
import { SluiceError } from '../../core/errors.ts'
import type { ErrorPolicy, OperatorContext } from '../../core/operator.ts'
import { KeyedAggregateOperator, type KeyedResult } from './keyed-aggregate-operator.ts'
import { agg } from '../aggregate/functions.ts'
import type { AggregateFunction } from '../aggregate/aggregate-function.ts'

function keyedHarness<T, A, R>(fn: AggregateFunction<T, A, R>, onError: ErrorPolicy = 'fail'): OperatorHarness {
  return new OperatorHarness((ctx) => new KeyedAggregateOperator(fn, ctx), { stepId: 'totals', onError })
}

const r = (key: string, value: number, time = 0, kind?: HarnessInput<number>['kind']): HarnessInput<number> => ({ key, value, time, ...(kind !== undefined ? { kind } : {}) })
const kv = (h: HarnessRecord) => [h.kind, (h.value as KeyedResult<string, unknown>).key, (h.value as KeyedResult<string, unknown>).value]

test('+I for a new key, then -U/+U for each change', () => {
  const h = keyedHarness(agg.sum<number>((x) => x))
  h.push([r('a', 1, 10)])
  assert.deepEqual(h.take(), [{ kind: '+I', time: 10, value: { key: 'a', value: 1 } }])
  h.push([r('b', 5, 11)])
  h.push([r('a', 2, 12)])
  assert.deepEqual(h.take().map(kv), [
    ['+I', 'b', 5],
    ['-U', 'a', 1],
    ['+U', 'a', 3],
  ])
})

test('updates are compacted per batch: a key touched many times in one batch emits once', () => {
  const h = keyedHarness(agg.count<number>())
  h.push([r('a', 0), r('b', 0), r('a', 0), r('a', 0)])
  assert.deepEqual(h.take().map(kv), [
    ['+I', 'a', 3],
    ['+I', 'b', 1],
  ])
  h.push([r('a', 0), r('a', 0)])
  assert.deepEqual(h.take().map(kv), [
    ['-U', 'a', 3],
    ['+U', 'a', 5],
  ])
  assert.equal(h.metrics.recordsOut, 4)
})

test('a changelog input is retracted, and a key that empties is deleted (-D)', () => {
  const h = keyedHarness(agg.sum<number>((x) => x))
  h.push([r('a', 1), r('a', 2), r('b', 7)])
  h.push([r('a', 2, 0, UPDATE_BEFORE), r('a', 4, 0, UPDATE_AFTER)])
  h.push([r('b', 7, 0, DELETE)])
  h.push([r('a', 1, 0, DELETE), r('a', 4, 0, UPDATE_BEFORE)])
  assert.deepEqual(h.take().map(kv), [
    ['+I', 'a', 3],
    ['+I', 'b', 7],
    ['-U', 'a', 3],
    ['+U', 'a', 5],
    ['-D', 'b', 7],
    ['-D', 'a', 5],
  ])
  // A key that comes back after being deleted starts over with +I.
  h.push([r('a', 9, 0, INSERT)])
  assert.deepEqual(h.take().map(kv), [['+I', 'a', 9]])
})

test('a key inserted and retracted within one batch emits nothing', () => {
  const h = keyedHarness(agg.count<number>())
  h.push([r('a', 1), r('a', 1, 0, DELETE), r('b', 1)])
  assert.deepEqual(h.take().map(kv), [['+I', 'b', 1]])
  assert.deepEqual(h.snapshotEntries('rows'), [['b', [1, 1, true, 1, 0]]]) // [key, [acc, n, emitted, last, time]]
})

test('a non-retractable aggregate on an updating input fails with SLUICE_NOT_RETRACTABLE', () => {
  for (const policy of ['fail', 'skip', 'error-output'] as const) {
    const h = keyedHarness(agg.max<number>((x) => x), policy)
    h.push([r('a', 1)])
    assert.throws(
      () => h.push([r('a', 1, 0, UPDATE_BEFORE)]),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_NOT_RETRACTABLE' && e.step === 'totals' && e.message.includes("'max'"),
    )
  }
  // The retractable variant works.
  const h = keyedHarness(agg.max<number>((x) => x, { retractable: true }))
  h.push([r('a', 1), r('a', 5)])
  h.push([r('a', 5, 0, DELETE)])
  assert.deepEqual(h.take().map(kv), [
    ['+I', 'a', 5],
    ['-U', 'a', 5],
    ['+U', 'a', 1],
  ])
})

test('a failing aggregate follows the error policy and leaves no state for the key', () => {
  const picky: AggregateFunction<number, number, number> = {
    name: 'picky',
    create: () => 0,
    add: (a, x) => {
      if (x < 0) throw new Error('negative')
      return a + x
    },
    merge: (a, b) => a + b,
    result: (a) => a,
  }
  const h = keyedHarness(picky, 'skip')
  h.push([r('a', 1), r('b', -1), r('a', -2)])
  assert.deepEqual(h.take().map(kv), [['+I', 'a', 1]])
  assert.equal(h.metrics.errors, 2)
  assert.equal(h.metrics.dropped, 2)
  assert.deepEqual(
    h.snapshotEntries('rows').map(([key]) => key),
    ['a'],
    'the key whose only record failed holds no state',
  )
  const f = keyedHarness(picky, 'fail')
  assert.throws(() => f.push([r('a', -1)]), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_USER_FUNCTION_FAILED' && e.step === 'totals')
})

test('the materialized changelog equals a direct computation, with a snapshot/restore anywhere', () => {
  const op = fc.record({ key: fc.constantFrom('a', 'b', 'c'), x: fc.integer({ min: -5, max: 5 }), del: fc.boolean() }).map((o) => ({ ...o }))
  fc.assert(
    fc.property(fc.array(fc.array(op, { maxLength: 8 }), { maxLength: 12 }), fc.nat(12), (batches, restoreAt) => {
      const h = keyedHarness(agg.fields({ n: agg.count<number>(), s: agg.sum<number>((x) => x) }))
      // Reference: the multiset of live values per key; a delete takes back a live value if there is one.
      const live = new Map<string, number[]>()
      const all: HarnessRecord[] = []
      batches.forEach((batch, i) => {
        const input: HarnessInput<number>[] = []
        for (const o of batch) {
          const vs = live.get(o.key) ?? []
          if (o.del && vs.length > 0) {
            const x = vs.shift()!
            input.push(r(o.key, x, 0, DELETE))
          } else {
            vs.push(o.x)
            input.push(r(o.key, o.x))
          }
          live.set(o.key, vs)
        }
        h.push(input)
        all.push(...h.take())
        if (i === restoreAt) h.snapshotAndRestore()
      })
      const table = materialize(all, (v) => (v as KeyedResult<string, unknown>).key)
      const expected = [...live].filter(([, vs]) => vs.length > 0).map(([key, vs]) => ({ key, value: { n: vs.length, s: vs.reduce((a, b) => a + b, 0) } }))
      const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key)
      assert.deepEqual((table as KeyedResult<string, unknown>[]).sort(byKey), expected.sort(byKey))
    }),
    { numRuns: 300 },
  )
})

test('with a ttl, a key idle that long is forgotten (a later record starts it afresh); snapshots keep only live rows', () => {
  const make = (ctx: OperatorContext) => new KeyedAggregateOperator(agg.count(), ctx, { ttl: '10s' })
  const h = new OperatorHarness(make)
  h.push([{ key: 'a', value: 1, time: 1 }, { key: 'b', value: 1, time: 1 }])
  h.advanceProcessingTime(6_000)
  h.push([{ key: 'a', value: 1, time: 2 }])
  h.take()
  h.advanceProcessingTime(6_000) // b idle 12 s: expired; a written 6 s ago: kept
  h.snapshotAndRestore()
  assert.equal(h.operator.keysHeld!(), 1)
  h.push([{ key: 'a', value: 1, time: 3 }, { key: 'b', value: 1, time: 3 }])
  assert.deepEqual(h.take().map((r) => [r.kind, r.value]), [
    ['-U', { key: 'a', value: 2 }],
    ['+U', { key: 'a', value: 3 }],
    ['+I', { key: 'b', value: 1 }],
  ])
  h.advanceProcessingTime(20_000)
  h.push([{ key: 'a', value: 1, time: 4 }])
  assert.deepEqual(h.take().map((r) => [r.kind, r.value]), [['+I', { key: 'a', value: 1 }]])
})

for (const state of ['heap', 'durable'] as const) {
  test(`with ttlTime 'event' (${state}), a key expires once the watermark passed its last update's watermark plus the ttl, whatever processing time does`, () => {
    const make = (ctx: OperatorContext) => new KeyedAggregateOperator(agg.count(), ctx, { ttl: '10s', ttlTime: 'event' })
    const h = new OperatorHarness(make, { state })
    // Written before the first watermark: the clock starts at the watermark.
    h.push([r('a', 1, 500), r('b', 1, 500)])
    h.watermark(1_000)
    h.advanceProcessingTime(3_600_000) // processing time does not expire event-time state
    h.push([r('a', 1, 6_000)])
    h.watermark(6_000)
    h.push([r('b', 1, 7_000)])
    h.take()
    h.watermark(12_000) // a last written at watermark 1 000: expired at 11 000; b at 6 000: kept until 16 000
    h.push([r('a', 1, 13_000), r('b', 1, 13_000)])
    assert.deepEqual(h.take().map(kv), [
      ['+I', 'a', 1],
      ['-U', 'b', 2],
      ['+U', 'b', 3],
    ])
    h.snapshotAndRestore()
    h.watermark(40_000)
    h.push([r('b', 1, 41_000)])
    assert.deepEqual(h.take().map(kv), [['+I', 'b', 1]])
  })
}
