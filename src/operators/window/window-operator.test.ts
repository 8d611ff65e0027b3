import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { OperatorHarness, type HarnessInput, type HarnessRecord } from '../../testing/operator-harness.ts'
import { WindowOperator, type LateRecord, type WindowResult } from './window-operator.ts'
import { window, type WindowAssigner } from './assigners.ts'
import { trigger, type Trigger } from './triggers.ts'
import { agg } from '../aggregate/functions.ts'
import type { AggregateFunction } from '../aggregate/aggregate-function.ts'

interface Opts {
  trigger?: Trigger
  allowedLateness?: number
}

function windowHarness<T, A, R>(assigner: WindowAssigner, aggregate: AggregateFunction<T, A, R>, opts: Opts = {}): OperatorHarness {
  return new OperatorHarness(
    (ctx) => new WindowOperator<T, A, R>({ assigner, trigger: opts.trigger ?? assigner.defaultTrigger(), aggregate, allowedLateness: opts.allowedLateness ?? 0, lateTag: 'late' }, ctx),
    { stepId: 'win' },
  )
}

/** A step of a scripted run: the same script runs straight through and with a snapshot/restore in between. */
type Step<T> = { push: HarnessInput<T>[] } | { wm: number } | { advance: number } | { end: true }

interface Run {
  main: HarnessRecord[]
  late: HarnessRecord[]
  lateMetric: number
}

function runScript<T>(make: () => OperatorHarness, steps: Step<T>[], restoreBefore: ReadonlySet<number> = new Set()): Run {
  const h = make()
  steps.forEach((s, i) => {
    if (restoreBefore.has(i)) h.snapshotAndRestore()
    if ('push' in s) h.push(s.push)
    else if ('wm' in s) h.watermark(s.wm)
    else if ('advance' in s) h.advanceProcessingTime(s.advance)
    else h.end()
  })
  return { main: h.take(), late: h.takeSide('late'), lateMetric: h.metrics.late }
}

/** Runs the script straight through, then once with a snapshot/restore before every step, and checks they agree. */
function runChecked<T>(make: () => OperatorHarness, steps: Step<T>[]): Run {
  const straight = runScript(make, steps)
  for (let i = 0; i < steps.length; i++) {
    assert.deepEqual(runScript(make, steps, new Set([i])), straight, `snapshot/restore before step ${i} changed the output`)
  }
  assert.deepEqual(runScript(make, steps, new Set(steps.map((_, i) => i))), straight, 'snapshot/restore before every step changed the output')
  return straight
}

const rec = (key: string, time: number, value: unknown = { key, time }): HarnessInput<unknown> => ({ key, time, value })
const row = (kind: HarnessRecord['kind'], key: unknown, start: number, end: number, value: unknown, time = end - 1): HarnessRecord => ({ kind, time, value: { key, start, end, value } })
const rowId = (r: HarnessRecord) => {
  const w = r.value as WindowResult<unknown, unknown>
  return `${String(w.key)}|${w.start}|${r.kind}`
}
const sortRows = (rs: HarnessRecord[]) => [...rs].sort((a, b) => rowId(a).localeCompare(rowId(b)))

test('tumbling windows count per key and fire when the watermark passes the end', () => {
  const make = () => windowHarness(window.tumbling({ size: 10 }), agg.count())
  const h = make()
  h.push([rec('a', 1), rec('b', 2), rec('a', 9), rec('a', 10), rec('b', -3)])
  assert.deepEqual(h.take(), [])
  h.watermark(8)
  assert.deepEqual(h.take(), [row('+I', 'b', -10, 0, 1)], 'the window [0, 10) is still open at watermark 8')
  h.watermark(9)
  assert.deepEqual(sortRows(h.take()), sortRows([row('+I', 'a', 0, 10, 2), row('+I', 'b', 0, 10, 1)]))
  h.end()
  assert.deepEqual(h.take(), [row('+I', 'a', 10, 20, 1)])

  const run = runChecked(make, [{ push: [rec('a', 1), rec('b', 2)] }, { push: [rec('a', 9), rec('a', 10)] }, { wm: 9 }, { push: [rec('a', 15), rec('b', 12)] }, { wm: 30 }, { end: true }])
  assert.deepEqual(sortRows(run.main), sortRows([row('+I', 'a', 0, 10, 2), row('+I', 'b', 0, 10, 1), row('+I', 'a', 10, 20, 2), row('+I', 'b', 10, 20, 1)]))
})

test('sliding windows: each record counts in size/slide windows', () => {
  const make = () => windowHarness(window.sliding({ size: 10, slide: 5 }), agg.count())
  const run = runChecked(make, [{ push: [rec('a', 0), rec('a', 4), rec('a', 7)] }, { wm: 4 }, { push: [rec('a', 12)] }, { wm: 9 }, { end: true }])
  assert.deepEqual(run.main, [
    row('+I', 'a', -5, 5, 2),
    row('+I', 'a', 0, 10, 3),
    row('+I', 'a', 5, 15, 2),
    row('+I', 'a', 10, 20, 1),
  ])
})

test('allowed lateness: a late record within lateness re-fires as -U/+U; beyond it goes to the late output', () => {
  const make = () => windowHarness(window.tumbling({ size: 10 }), agg.count(), { allowedLateness: 5 })
  const steps: Step<unknown>[] = [
    { push: [rec('a', 1), rec('a', 2)] },
    { wm: 9 },
    { push: [rec('a', 3)] },
    { wm: 13 },
    { push: [rec('a', 4)] },
    { wm: 14 },
    { push: [rec('a', 5, 'too late'), rec('a', 15)] },
    { end: true },
  ]
  const h = make()
  h.push([rec('a', 1), rec('a', 2)]).watermark(9)
  assert.deepEqual(h.take(), [row('+I', 'a', 0, 10, 2)])
  h.push([rec('a', 3)])
  assert.deepEqual(h.take(), [row('-U', 'a', 0, 10, 2), row('+U', 'a', 0, 10, 3)], 'within lateness: fires at once as an update')
  const run = runChecked(make, steps)
  assert.deepEqual(run.main, [
    row('+I', 'a', 0, 10, 2),
    row('-U', 'a', 0, 10, 2),
    row('+U', 'a', 0, 10, 3),
    row('-U', 'a', 0, 10, 3),
    row('+U', 'a', 0, 10, 4),
    row('+I', 'a', 10, 20, 1),
  ])
  assert.equal(run.late.length, 1)
  const late = run.late[0].value as LateRecord<unknown>
  assert.deepEqual(late, { step: 'win', reason: 'window-closed', time: 5, watermark: 14, record: 'too late' })
  assert.equal(run.late[0].time, 5)
  assert.equal(run.lateMetric, 1)
})

test('without lateness a record for a window the watermark passed goes to the late output', () => {
  const h = windowHarness(window.tumbling({ size: 10 }), agg.count())
  h.push([rec('a', 1)]).watermark(9).push([rec('a', 9), rec('b', 10)]).end()
  assert.deepEqual(h.take(), [row('+I', 'a', 0, 10, 1), row('+I', 'b', 10, 20, 1)])
  assert.deepEqual(h.takeSide('late').map((r) => (r.value as LateRecord<unknown>).time), [9])
  assert.equal(h.metrics.late, 1)
})

test('sessions: merging two already-fired sessions within lateness retracts both and inserts the merged one', () => {
  const make = () => windowHarness(window.session({ gap: 10 }), agg.count(), { allowedLateness: 100 })
  const run = runChecked(make, [{ push: [rec('a', 0), rec('a', 20)] }, { wm: 30 }, { push: [rec('a', 10)] }, { wm: 200 }, { push: [rec('a', 31)] }, { end: true }])
  assert.deepEqual(run.main, [
    row('+I', 'a', 0, 10, 1),
    row('+I', 'a', 20, 30, 1),
    row('-D', 'a', 0, 10, 1),
    row('-D', 'a', 20, 30, 1),
    row('+I', 'a', 0, 30, 3),
  ])
  // 31 would extend [0, 30) to [0, 41), whose end + lateness (140) is behind the watermark 200.
  assert.equal(run.late.length, 1)
})

test('sessions: a record inside a fired session updates it in place (-U/+U)', () => {
  const make = () => windowHarness(window.session({ gap: 10 }), agg.count(), { allowedLateness: 100 })
  const run = runChecked(make, [{ push: [rec('a', 0), rec('a', 5)] }, { wm: 20 }, { push: [rec('a', 3)] }, { end: true }])
  assert.deepEqual(run.main, [row('+I', 'a', 0, 15, 2), row('-U', 'a', 0, 15, 2), row('+U', 'a', 0, 15, 3)])
})

test('count windows fire every n records per key; at the end of input the remainder is dropped and counted', () => {
  const make = () => windowHarness(window.count(3), agg.sum<number>((x) => x))
  const steps: Step<number>[] = [
    { push: [1, 2, 3, 4].map((x) => ({ key: 'a', time: x, value: x })) },
    { push: [{ key: 'b', time: 0, value: 100 }] },
    { push: [5, 6, 7].map((x) => ({ key: 'a', time: x, value: x })) },
    { wm: 1000 },
    { end: true },
  ]
  const run = runChecked(make, steps)
  assert.deepEqual(
    run.main.map((r) => [r.kind, r.value]),
    [
      ['+I', { key: 'a', start: 1, end: 4, value: 6 }],
      ['+I', { key: 'a', start: 4, end: 7, value: 15 }],
    ],
  )
  assert.equal(run.main[0].time, 3, 'a count window result carries the latest record time')
  const h = make()
  h.push([1, 2, 3, 4].map((x) => ({ key: 'a', time: x, value: x }))).push([{ key: 'b', time: 0, value: 100 }]).end()
  assert.equal(h.metrics.dropped, 2, 'the records of the two incomplete windows')
})

test('count windows with fireIncompleteAtEnd emit the remainder marked incomplete; bounds are the span of its records', () => {
  const make = () => windowHarness(window.count(3, { fireIncompleteAtEnd: true }), agg.sum<number>((x) => x))
  const steps: Step<number>[] = [
    { push: [5, 2, 9, 7].map((x) => ({ key: 'a', time: x * 10, value: x })) },
    { push: [{ key: 'b', time: 0, value: 100 }] },
    { end: true },
  ]
  const run = runChecked(make, steps)
  // Keys fire at the end in the order the backend holds them (the durable one: by key), so the rows are sorted.
  const rows = run.main.map((r) => r.value as WindowResult<string, number>).sort((x, y) => x.key.localeCompare(y.key) || x.start - y.start)
  assert.deepEqual(rows, [
    { key: 'a', start: 20, end: 91, value: 16 },
    { key: 'a', start: 70, end: 71, value: 7, incomplete: true },
    { key: 'b', start: 0, end: 1, value: 100, incomplete: true },
  ])
  for (const r of rows) assert.doesNotMatch(JSON.stringify(r), /null/)
})

test('global window with a non-purging count trigger emits the running aggregate as updates', () => {
  const make = () => windowHarness(window.global(), agg.count(), { trigger: trigger.count(2) })
  const run = runChecked(make, [{ push: [rec('a', 1), rec('a', 2), rec('a', 3)] }, { push: [rec('a', 4), rec('a', 5)] }, { end: true }])
  assert.deepEqual(
    run.main.map((r) => [r.kind, (r.value as WindowResult<string, number>).value]),
    [
      ['+I', 2],
      ['-U', 2],
      ['+U', 4],
      ['-U', 4],
      ['+U', 5],
    ],
  )
})

test('global window with the default trigger fires only at the end', () => {
  const h = windowHarness(window.global(), agg.count())
  h.push([rec('a', 1), rec('b', 2), rec('a', 3)]).watermark(1e15)
  assert.deepEqual(h.take(), [])
  h.end()
  assert.deepEqual(sortRows(h.take().map((r) => ({ ...r, time: 0 }))), sortRows([row('+I', 'a', -Infinity, Infinity, 2, 0), row('+I', 'b', -Infinity, Infinity, 1, 0)]))
})

test('early trigger: speculative results on processing time, then the final one at the watermark', () => {
  const make = () => windowHarness(window.tumbling({ size: 100 }), agg.count(), { trigger: trigger.early({ every: 10 }) })
  const steps: Step<unknown>[] = [
    { push: [rec('a', 1)] },
    { advance: 10 },
    { push: [rec('a', 2), rec('a', 3)] },
    { advance: 5 },
    { advance: 5 },
    { advance: 10 },
    { push: [rec('a', 50)] },
    { wm: 99 },
    { advance: 10 },
    { end: true },
  ]
  const run = runChecked(make, steps)
  assert.deepEqual(
    run.main.map((r) => [r.kind, (r.value as WindowResult<string, number>).value]),
    [
      ['+I', 1],
      ['-U', 1],
      ['+U', 3],
      ['-U', 3],
      ['+U', 4],
    ],
  )
  assert.ok(run.main.every((r) => r.time === 99))
})

test('processing-time tumbling windows fire on the clock, and what is left at the end', () => {
  const make = () => windowHarness(window.tumbling({ size: 100, time: 'processing' }), agg.count())
  const steps: Step<unknown>[] = [
    // Event times are ignored: the clock decides the window.
    { push: [rec('a', 5000), rec('b', -7)] },
    { advance: 50 },
    { push: [rec('a', 1)] },
    { wm: 1e12 },
    { advance: 49 },
    { advance: 1 },
    { push: [rec('a', 1)] },
    { end: true },
  ]
  const h = make()
  h.push([rec('a', 5000)]).watermark(1e12)
  assert.deepEqual(h.take(), [], 'the watermark does not fire processing-time windows')
  const run = runChecked(make, steps)
  assert.deepEqual(sortRows(run.main.slice(0, 2)), sortRows([row('+I', 'a', 0, 100, 2), row('+I', 'b', 0, 100, 1)]))
  assert.deepEqual(run.main.slice(2), [row('+I', 'a', 100, 200, 1)])
  assert.equal(run.late.length, 0)
})

interface Sale {
  shop: string
  price: number
  item: string
  ts: number
}

/** A user-defined aggregate: spread between the highest and the lowest price. */
const spread: AggregateFunction<Sale, { lo: number; hi: number }, number | null> = {
  name: 'spread',
  create: () => ({ lo: Infinity, hi: -Infinity }),
  add: (a, s) => ({ lo: Math.min(a.lo, s.price), hi: Math.max(a.hi, s.price) }),
  merge: (a, b) => ({ lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) }),
  result: (a) => (a.lo === Infinity ? null : a.hi - a.lo),
}

test('each aggregate in a tumbling window equals a reference over the window records', () => {
  const cases: [string, AggregateFunction<Sale, any, unknown>, (xs: Sale[]) => unknown][] = [
    ['count', agg.count<Sale>(), (xs) => xs.length],
    ['sum', agg.sum<Sale>((s) => s.price), (xs) => xs.reduce((a, s) => a + s.price, 0)],
    ['min', agg.min<Sale>((s) => s.price), (xs) => Math.min(...xs.map((s) => s.price))],
    ['max', agg.max<Sale>((s) => s.price), (xs) => Math.max(...xs.map((s) => s.price))],
    ['avg', agg.avg<Sale>((s) => s.price), (xs) => xs.reduce((a, s) => a + s.price, 0) / xs.length],
    ['first', agg.first<Sale, string>((s) => s.item), (xs) => xs[0].item],
    ['last', agg.last<Sale, string>((s) => s.item), (xs) => xs[xs.length - 1].item],
    ['countDistinct', agg.countDistinct<Sale>((s) => s.item), (xs) => new Set(xs.map((s) => s.item)).size],
    ['topN', agg.topN<Sale>(2, (s) => s.price), (xs) => xs.map((s, i) => [s, i] as const).sort((a, b) => b[0].price - a[0].price || a[1] - b[1]).slice(0, 2).map(([s]) => s)],
    ['fields', agg.fields({ n: agg.count<Sale>(), top: agg.max<Sale>((s) => s.price) }), (xs) => ({ n: xs.length, top: Math.max(...xs.map((s) => s.price)) })],
    ['reduce', agg.reduce<Sale>((a, b) => ({ ...a, price: a.price + b.price })), (xs) => xs.slice(1).reduce((a, b) => ({ ...a, price: a.price + b.price }), xs[0])],
    ['user-defined', spread, (xs) => Math.max(...xs.map((s) => s.price)) - Math.min(...xs.map((s) => s.price))],
  ]
  const sale = fc.record({ shop: fc.constantFrom('x', 'y', 'z'), price: fc.integer({ min: 0, max: 500 }), item: fc.constantFrom('tea', 'cake', 'jam', 'bun'), ts: fc.integer({ min: 0, max: 99 }) }).map((s) => ({ ...s }))
  fc.assert(
    fc.property(fc.array(sale, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 8 }), (sales, batches) => {
      for (const [name, fn, reference] of cases) {
        const h = windowHarness(window.tumbling({ size: 20 }), fn)
        // Arrival order is the array order, in `batches` batches, with no watermark until the end.
        const per = Math.ceil(sales.length / batches)
        for (let i = 0; i < sales.length; i += per) h.push(sales.slice(i, i + per).map((s) => ({ key: s.shop, time: s.ts, value: s })))
        h.end()
        const groups = new Map<string, Sale[]>()
        for (const s of sales) {
          const id = `${s.shop}@${s.ts - (s.ts % 20)}`
          groups.set(id, [...(groups.get(id) ?? []), s])
        }
        const got = h.take()
        assert.equal(got.length, groups.size, name)
        for (const r of got) {
          const w = r.value as WindowResult<string, unknown>
          assert.equal(r.kind, '+I')
          assert.deepEqual(w.value, reference(groups.get(`${w.key}@${w.start}`)!), `${name} for ${w.key}@${w.start}`)
        }
      }
    }),
    { numRuns: 40 },
  )
})

test('snapshot/restore keeps accumulators of every aggregate kind', () => {
  const make = () => windowHarness(window.tumbling({ size: 10 }), agg.fields({ d: agg.countDistinct<number>((x) => x % 3), lo: agg.min<number>((x) => x, { retractable: true }), top: agg.topN<number>(2, (x) => x), m: agg.avg<number>((x) => x) }))
  const run = runChecked(make, [{ push: [1, 2, 3].map((x) => ({ key: 'k', time: x, value: x })) }, { push: [4, 5].map((x) => ({ key: 'k', time: x, value: x })) }, { end: true }])
  assert.deepEqual(run.main, [row('+I', 'k', 0, 10, { d: 3, lo: 1, top: [5, 4], m: 3 })])
})

test('an event-time window whose trigger sets no timer is still dropped once the watermark passes its end', () => {
  const make = () => windowHarness(window.tumbling({ size: 10 }), agg.count(), { trigger: trigger.count(2) })
  const h = make()
  h.push([rec('a', 1), rec('a', 2), rec('a', 3), rec('b', 15)])
  assert.deepEqual(h.take(), [row('+I', 'a', 0, 10, 2)])
  h.watermark(9)
  assert.deepEqual(h.snapshotEntries('windows').map(([key]) => key), ['b'], 'the window [0, 10) of key a is cleaned up; only b remains')
  h.push([rec('a', 4)])
  assert.equal(h.takeSide('late').length, 1)
  // Like Flink, the records a count trigger had not fired yet are purged with the window.
  h.end()
  assert.deepEqual(h.take(), [])
  assert.equal(h.snapshotEntries('windows').length, 0)
})

test('a firing asked to stop goes key by key: nothing is emitted until it is done, then the same rows as without a stop', () => {
  const keys = ['a', 'b', 'c', 'd', 'e']
  const fire = (stop: boolean) => {
    const h = windowHarness(window.tumbling({ size: 10 }), agg.count())
    h.push(keys.map((k, i) => rec(k, i)))
    const op = h.operator as WindowOperator<unknown, number, number>
    if (stop) op.shouldYield = () => true
    h.watermark(9)
    let resumes = 0
    if (stop) {
      assert.equal(op.pending, true, 'the firing stopped after its first key')
      assert.deepEqual(h.take(), [], 'nothing is emitted while the firing is stopped')
      while (!op.resume()) resumes++
      resumes++
    }
    h.push([rec('a', 12)]).watermark(19)
    return { rows: h.take(), resumes }
  }
  const straight = fire(false)
  const stopped = fire(true)
  assert.equal(stopped.resumes, keys.length - 1, 'one key per call')
  assert.deepEqual(stopped.rows, straight.rows)
  assert.equal(straight.rows.length, keys.length + 1)
})
