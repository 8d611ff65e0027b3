// The state API's rows of windowed and join steps: each operator is driven through the harness (on the heap,
// or on the durable store with SLUICE_TEST_STATE=durable), its snapshot is restored into the placeholder the
// state API builds for its kind, and the rows read back must be exactly the state the input left open.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { agg as aggs, expect, pipeline, readState, run, sink, source, window as windows, writeSavepoint, SluiceError, type WindowResult } from '../../src/index.ts'
import type { Operator, OperatorContext, StateRow } from '../../src/core/operator.ts'
import { redistributeKeyed } from '../../src/checkpoint/redistribute.ts'
import type { KeyedSnapshot } from '../../src/core/operator.ts'
import { DELETE } from '../../src/core/batch.ts'
import { stateOperator } from '../../src/connectors/state/state-operator.ts'
import { OperatorHarness } from '../../src/testing/operator-harness.ts'
import { withTempDir } from '../../src/connectors/files/test-support.ts'
import { agg } from '../../src/operators/aggregate/functions.ts'
import { window } from '../../src/operators/window/assigners.ts'
import { WindowOperator } from '../../src/operators/window/window-operator.ts'
import { WindowJoinOperator } from '../../src/operators/join/window-join-operator.ts'
import { IntervalJoinOperator } from '../../src/operators/join/interval-join-operator.ts'
import { RegularJoinOperator } from '../../src/operators/join/regular-join-operator.ts'

const pair = (l: unknown, r: unknown) => [l, r]
const rec = (value: unknown, time: number, key: string) => ({ value, time, key })

/** The rows the state API reads from `h`'s operator's state now, through the placeholder of `kind`. */
function rowsOf(h: OperatorHarness, kind: string): StateRow[] {
  const reader = stateOperator('p', 'step', kind)!
  reader.restore!(redistributeKeyed([h.snapshot() as KeyedSnapshot], 1)[0])
  return [...reader.stateRows!()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
}

const harness = (build: (ctx: OperatorContext) => Operator) => new OperatorHarness(build)

test('window aggregate: a row per open window of each key, its accumulator as value and its last firing as result', () => {
  const h = harness((ctx) => new WindowOperator({ assigner: window.tumbling({ size: 10 }), trigger: window.tumbling({ size: 10 }).defaultTrigger(), aggregate: agg.sum((n: number) => n), allowedLateness: 5, lateTag: 'late' }, ctx))
  h.push([rec(1, 1, 'a'), rec(2, 4, 'a'), rec(5, 12, 'a'), rec(7, 3, 'b')])
  h.watermark(9) // [0, 10) fires, and is kept for its allowed lateness
  h.push([rec(10, 8, 'a')]) // a late update of a fired window
  assert.deepEqual(rowsOf(h, 'window-aggregate'), [
    { key: 'a', window: { start: 0, end: 10 }, value: 13, result: 13 },
    { key: 'a', window: { start: 10, end: 20 }, value: 5 },
    { key: 'b', window: { start: 0, end: 10 }, value: 7, result: 7 },
  ])
  h.watermark(30)
  assert.deepEqual(rowsOf(h, 'window-aggregate'), [], 'closed windows are gone')
})

test('session windows read as their merged bounds', () => {
  const assigner = window.session({ gap: 5 })
  const h = harness((ctx) => new WindowOperator({ assigner, trigger: assigner.defaultTrigger(), aggregate: agg.count(), allowedLateness: 0, lateTag: 'late' }, ctx))
  h.push([rec('x', 1, 'a'), rec('x', 9, 'a'), rec('x', 4, 'a'), rec('x', 30, 'a')])
  assert.deepEqual(rowsOf(h, 'window-aggregate'), [
    { key: 'a', window: { start: 1, end: 14 }, value: 3 },
    { key: 'a', window: { start: 30, end: 35 }, value: 1 },
  ])
})

test('window join: a row per open window of each key, with the records of both sides in arrival order', () => {
  const h = harness((ctx) => new WindowJoinOperator({ assigner: window.tumbling({ size: 10 }), type: 'inner', fn: pair }, ctx))
  h.push([rec({ o: 1 }, 1, 'a'), rec({ o: 2 }, 12, 'a')], 0)
  h.push([rec({ p: 1 }, 3, 'a'), rec({ p: 2 }, 5, 'a'), rec({ p: 3 }, 6, 'b')], 1)
  assert.deepEqual(rowsOf(h, 'window-join'), [
    { key: 'a', window: { start: 0, end: 10 }, value: { left: [{ o: 1 }], right: [{ p: 1 }, { p: 2 }] } },
    { key: 'a', window: { start: 10, end: 20 }, value: { left: [{ o: 2 }], right: [] } },
    { key: 'b', window: { start: 0, end: 10 }, value: { left: [], right: [{ p: 3 }] } },
  ])
  h.watermark(9)
  assert.deepEqual(rowsOf(h, 'window-join').map((r) => r.window), [{ start: 10, end: 20 }])
})

test('interval join: a row per key with the buffered records of each side and their times', () => {
  const h = harness((ctx) => new IntervalJoinOperator({ lower: -5, upper: 0, type: 'inner', fn: pair }, ctx))
  h.push([rec('l1', 10, 'a'), rec('l2', 10, 'a'), rec('l3', 20, 'b')], 0)
  h.push([rec('r1', 7, 'a'), rec('r2', 18, 'b')], 1)
  assert.deepEqual(rowsOf(h, 'interval-join'), [
    { key: 'a', value: { left: [{ time: 10, value: 'l1' }, { time: 10, value: 'l2' }], right: [{ time: 7, value: 'r1' }] } },
    { key: 'b', value: { left: [{ time: 20, value: 'l3' }], right: [{ time: 18, value: 'r2' }] } },
  ])
  h.watermark(15) // frees the left records of a (their interval ended at 10) and the right one (7 + 5 < 15)
  assert.deepEqual(rowsOf(h, 'interval-join'), [{ key: 'b', value: { left: [{ time: 20, value: 'l3' }], right: [{ time: 18, value: 'r2' }] } }])
})

test('regular join: a row per key with the rows each side keeps; retracted rows are gone', () => {
  const h = harness((ctx) => new RegularJoinOperator({ ttl: 1_000_000, type: 'left', fn: pair }, ctx))
  h.push([rec({ id: 1 }, 0, 'a'), rec({ id: 2 }, 0, 'a'), rec({ id: 3 }, 0, 'b')], 0)
  h.push([rec({ c: 'x' }, 0, 'a')], 1)
  h.push([{ ...rec({ id: 2 }, 0, 'a'), kind: DELETE }], 0)
  assert.deepEqual(rowsOf(h, 'join'), [
    { key: 'a', value: { left: [{ id: 1 }], right: [{ c: 'x' }] } },
    { key: 'b', value: { left: [{ id: 3 }], right: [] } },
  ])
})

test('readState reads a join step of a finished job from its checkpoint; writeSavepoint says which steps it cannot write', () =>
  withTempDir(async (base) => {
    const p = pipeline('orders-users')
    const orders = p.from(source.collection([{ id: 1, user: 'ann' }, { id: 2, user: 'bob' }, { id: 3, user: 'ann' }])).keyBy((o) => o.user)
    const users = p.from(source.collection([{ name: 'ann', country: 'fr' }])).keyBy((u) => u.name)
    orders.join(users, { ttl: '1d', type: 'left' }, (o, u) => ({ id: o.id, country: u?.country ?? null })).id('enrich').to(sink.collect())
    const dir = join(base, 'checkpoints')
    await run(p, { checkpoint: { dir, intervalMs: 0 } })
    const rows = (await readState(dir, { step: 'enrich' })).sort((a, b) => String(a.key).localeCompare(String(b.key)))
    assert.deepEqual(rows, [
      { key: 'ann', value: { left: [{ id: 1, user: 'ann' }, { id: 3, user: 'ann' }], right: [{ name: 'ann', country: 'fr' }] } },
      { key: 'bob', value: { left: [{ id: 2, user: 'bob' }], right: [] } },
    ])
    const checked = pipeline('checked')
    checked.from(source.collection([{ n: 1 }])).expect([expect.notNull('n')], { window: '1m' }).id('checks').to(sink.collect())
    await assert.rejects(
      writeSavepoint([{ key: 'ann', value: {} }], { pipeline: checked, step: 'checks', dir: join(base, 'sp') }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_STATE_BOOTSTRAP' && /'checks' is of kind 'expect', whose state the state API does not write/.test(e.message) && /keyed-aggregate, process, co-process, window-aggregate, window-join, interval-join, join/.test(e.hint ?? ''),
    )
  }),
)

test('writeSavepoint bootstraps open windows: each fires at its end with its accumulator and the records the restored job adds', () =>
  withTempDir(async (base) => {
    const HOUR = 3_600_000
    const job = (orders: { region: string; amount: number; ts: number }[]) => {
      const out = sink.collect<WindowResult<string, number>>()
      const sessions = sink.collect<WindowResult<string, number>>()
      const p = pipeline('hourly')
      const keyed = p.from(source.collection(orders, { eventTime: (o) => o.ts })).keyBy((o) => o.region)
      keyed.window(windows.tumbling({ size: '1h' })).aggregate(aggs.sum((o: { amount: number }) => o.amount)).id('hourly').to(out)
      keyed.window(windows.session({ gap: '10m' })).aggregate(aggs.count()).id('visits').to(sessions)
      return { p, out, sessions }
    }
    const target = job([
      { region: 'eu', amount: 5, ts: 10 * 60_000 },
      { region: 'us', amount: 1, ts: 20 * 60_000 },
      { region: 'eu', amount: 7, ts: HOUR + 1 },
    ])
    const boot = join(base, 'boot')
    await writeSavepoint(
      [
        { key: 'eu', window: { start: 0, end: HOUR }, value: 40 },
        { key: 'apac', window: { start: HOUR, end: 2 * HOUR }, value: 3 },
      ],
      { pipeline: target.p, step: 'hourly', dir: boot },
    )
    assert.deepEqual(
      (await readState(boot, { step: 'hourly' })).sort((a, b) => String(a.key).localeCompare(String(b.key))),
      [
        { key: 'apac', window: { start: HOUR, end: 2 * HOUR }, value: 3 },
        { key: 'eu', window: { start: 0, end: HOUR }, value: 40 },
      ],
    )
    await run(target.p, { checkpoint: { dir: join(base, 'chk'), intervalMs: 0, restoreFrom: boot } })
    assert.deepEqual(
      target.out.values.map((r) => [r.key, r.start, r.value]).sort(),
      [['apac', HOUR, 3], ['eu', 0, 45], ['eu', HOUR, 7], ['us', 0, 1]],
    )

    // A session given as state merges with the records that extend it.
    const again = job([{ region: 'eu', amount: 1, ts: 15 * 60_000 }])
    const boot2 = join(base, 'boot2')
    await writeSavepoint([{ key: 'eu', window: { start: 0, end: 20 * 60_000 }, value: 4 }], { pipeline: again.p, step: 'visits', dir: boot2 })
    await run(again.p, { checkpoint: { dir: join(base, 'chk2'), intervalMs: 0, restoreFrom: boot2 } })
    assert.deepEqual(again.sessions.values.map((r) => [r.key, r.start, r.end, r.value]), [['eu', 0, 25 * 60_000, 5]])

    // Rows that name no window of the step, or none at all, are refused with the key they came with.
    const bad = async (row: StateRow, step = 'hourly') => writeSavepoint([row], { pipeline: target.p, step, dir: join(base, `bad-${Math.random()}`) })
    await assert.rejects(bad({ key: 'eu', window: { start: 60_000, end: HOUR + 60_000 }, value: 1 }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_STATE_BOOTSTRAP' && /\[60000, 3660000\), which is not one of this step's tumbling windows/.test(e.message) && /\[0, 3600000\)/.test(e.hint ?? ''))
    await assert.rejects(bad({ key: 'eu', value: 1 }), /state row of key "eu" needs window: \{ start, end \}/)
    await assert.rejects(
      writeSavepoint([{ key: 'eu', window: { start: 0, end: HOUR }, value: 1 }, { key: 'eu', window: { start: 0, end: HOUR }, value: 2 }], { pipeline: target.p, step: 'hourly', dir: join(base, 'dup') }),
      /two state rows for window \[0, 3600000\) of key "eu"/,
    )
    const counts = pipeline('counted')
    counts.from(source.collection([{ k: 'a' }])).keyBy((r) => r.k).window(windows.count(10)).count().id('tens').to(sink.collect())
    await assert.rejects(writeSavepoint([{ key: 'a', window: { start: 0, end: 1 }, value: 1 }], { pipeline: counts, step: 'tens', dir: join(base, 'count') }), /not count windows/)
  }),
)

test('writeSavepoint bootstraps window joins: the records given meet those the restored job adds when the window fires', () =>
  withTempDir(async (base) => {
    const HOUR = 3_600_000
    const out = sink.collect<string>()
    const p = pipeline('paid')
    const orders = p.from(source.collection([{ id: 'o2', ts: 10 }], { eventTime: (o) => o.ts })).keyBy((o) => o.id)
    const pays = p.from(source.collection([{ order: 'o1', paid: 7, ts: 20 * 60_000 }], { eventTime: (x) => x.ts })).keyBy((x) => x.order)
    orders.windowJoin(pays, windows.tumbling({ size: '1h' }), (o, x) => `${o?.id ?? '-'}:${x?.paid ?? '-'}`, { type: 'full' }).id('paid-orders').to(out)
    const boot = join(base, 'boot')
    await writeSavepoint([{ key: 'o1', window: { start: 0, end: HOUR }, value: { left: [{ id: 'o1', ts: 5 }], right: [] } }], { pipeline: p, step: 'paid-orders', dir: boot })
    assert.deepEqual(await readState(boot, { step: 'paid-orders' }), [{ key: 'o1', window: { start: 0, end: HOUR }, value: { left: [{ id: 'o1', ts: 5 }], right: [] } }])
    await run(p, { checkpoint: { dir: join(base, 'chk'), intervalMs: 0, restoreFrom: boot } })
    assert.deepEqual([...out.values].sort(), ['o1:7', 'o2:-'])
    await assert.rejects(
      writeSavepoint([{ key: 'o1', window: { start: 0, end: HOUR }, value: { left: 'o1' } }], { pipeline: p, step: 'paid-orders', dir: join(base, 'bad') }),
      /state row of key "o1" needs value: \{ left: \[records\], right: \[records\] \}/,
    )
  }),
)

test('writeSavepoint bootstraps regular joins: the rows given meet the restored job\'s records, and are not joined again', () =>
  withTempDir(async (base) => {
    const job = (orders: { id: string; customer: string }[], customers: { id: string; name: string }[], ttlTime?: 'event') => {
      const out = sink.collect<string>()
      const p = pipeline('enriched')
      const o = p.from(source.collection(orders, { eventTime: () => 0 })).keyBy((x) => x.customer)
      const c = p.from(source.collection(customers, { eventTime: () => 0 })).keyBy((x) => x.id)
      o.join(c, { ttl: '1d', type: 'left', ...(ttlTime ? { ttlTime } : {}) }, (x, y) => `${x.id}:${y?.name ?? '-'}`).id('enrich').to(out)
      return { p, out }
    }
    const target = job([{ id: 'o2', customer: 'c1' }, { id: 'o3', customer: 'c2' }], [])
    const boot = join(base, 'boot')
    const row = { key: 'c1', value: { left: [{ id: 'o1', customer: 'c1' }], right: [{ id: 'c1', name: 'Ann' }] } }
    await writeSavepoint([row], { pipeline: target.p, step: 'enrich', dir: boot })
    assert.deepEqual(await readState(boot, { step: 'enrich' }), [row])
    await run(target.p, { checkpoint: { dir: join(base, 'chk'), intervalMs: 0, restoreFrom: boot } })
    // o1 met Ann before the savepoint: only the restored job's orders are emitted.
    assert.deepEqual([...target.out.values].sort(), ['o2:Ann', 'o3:-'])

    const bad = async (rows: StateRow[], p = target.p) => writeSavepoint(rows, { pipeline: p, step: 'enrich', dir: join(base, `bad-${Math.random()}`) })
    await assert.rejects(bad([row, row]), /two state rows for key "c1"/)
    await assert.rejects(bad([{ key: 'c1', value: { right: 'Ann' } }]), /state row of key "c1" needs value: \{ left: \[records\], right: \[records\] \}/)
    const evented = job([], [], 'event')
    await assert.rejects(bad([row], evented.p), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_STATE_BOOTSTRAP' && /key "c1" needs time: the event time its sides were last written/.test(e.message))
    await bad([{ ...row, time: 1_000 }], evented.p)
  }),
)

test('a bootstrapped regular join keeps each side ttl after the row\'s time, in event time', () => {
  let op: RegularJoinOperator | undefined
  const h = harness((ctx) => (op = new RegularJoinOperator({ ttl: 100, ttlTime: 'event', type: 'inner', fn: pair }, ctx)))
  op!.bootstrapState({ key: 'a', value: { right: ['A'] }, time: 1_000 })
  op!.bootstrapState({ key: 'b', value: { right: ['B'] }, time: 2_000 })
  h.watermark(1_101)
  h.push([rec('x', 1_200, 'a'), rec('y', 1_200, 'b')], 0)
  assert.deepEqual(h.takeValues(), [['y', 'B']], "a's side expired when the watermark passed 1,000 + 100")
  assert.deepEqual(rowsOf(h, 'join'), [{ key: 'a', value: { left: ['x'], right: [] } }, { key: 'b', value: { left: ['y'], right: ['B'] } }])
  h.close()
})

test('writeSavepoint bootstraps interval joins: buffered records meet the restored job\'s, and its watermark frees them', () =>
  withTempDir(async (base) => {
    const out = sink.collect<string>()
    const p = pipeline('attributed')
    const views = p.from(source.collection([{ user: 'u1', ts: 1_050 }, { user: 'u2', ts: 5_000 }], { eventTime: (v) => v.ts })).keyBy((v) => v.user)
    const clicks = p.from(source.collection([{ user: 'u1', ts: 1_060 }], { eventTime: (c) => c.ts })).keyBy((c) => c.user)
    views.intervalJoin(clicks, { lower: 0, upper: 100, type: 'left' }, (v, c) => `${v.ts}-${c?.ts ?? '-'}`).id('attributed').to(out)
    const boot = join(base, 'boot')
    const row = { key: 'u1', value: { left: [{ time: 1_000, value: { user: 'u1', ts: 1_000 } }, { time: 1_010, value: { user: 'u1', ts: 1_010 } }], right: [{ time: 1_020, value: { user: 'u1', ts: 1_020 } }] } }
    await writeSavepoint([row], { pipeline: p, step: 'attributed', dir: boot })
    assert.deepEqual(await readState(boot, { step: 'attributed' }), [row])
    await run(p, { checkpoint: { dir: join(base, 'chk'), intervalMs: 0, restoreFrom: boot } })
    // The views at 1,000 and 1,010 met the click at 1,020 before the savepoint (not emitted again, not padded);
    // both meet the restored job's click at 1,060, as does its own view at 1,050.
    assert.deepEqual([...out.values].sort(), ['1000-1060', '1010-1060', '1050-1060', '5000--'])
    await assert.rejects(
      writeSavepoint([{ key: 'u1', value: { left: [{ value: 1 }] } }], { pipeline: p, step: 'attributed', dir: join(base, 'bad') }),
      /record 0 of left in the state row of key "u1" needs \{ time, value \}/,
    )
  }),
)
