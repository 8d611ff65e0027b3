import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline, run, sink, source, window, SluiceError, type KeyedCoProcessFunction } from '../../index.ts'
import type { JoinLateRecord } from './join-types.ts'

interface Order {
  id: string
  user: string
  amount: number
  ts: number
}
interface Payment {
  order: string
  paid: number
  ts: number
}

const orders: Order[] = [
  { id: 'o1', user: 'ann', amount: 10, ts: 1 },
  { id: 'o2', user: 'bob', amount: 20, ts: 4 },
  { id: 'o3', user: 'ann', amount: 30, ts: 12 },
  { id: 'o4', user: 'cat', amount: 40, ts: 25 },
]
const payments: Payment[] = [
  { order: 'o1', paid: 10, ts: 3 },
  { order: 'o3', paid: 5, ts: 8 },
  { order: 'o3', paid: 25, ts: 14 },
  { order: 'o5', paid: 1, ts: 26 },
]

function inputs(name: string) {
  const p = pipeline(name, { batchSize: 1 })
  const o = p.from(source.collection(orders, { eventTime: (x) => x.ts })).keyBy((x) => x.id)
  const pay = p.from(source.collection(payments, { eventTime: (x) => x.ts })).keyBy((x) => x.order)
  return { p, o, pay }
}

const byJson = <T>(xs: T[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))

test('windowJoin: typed inner and full joins per key and tumbling window', async () => {
  const { p, o, pay } = inputs('window-join')
  const inner = sink.collect<{ id: string; user: string; paid: number }>()
  const full = sink.collect<string>()
  o.windowJoin(pay, window.tumbling({ size: 10 }), (ord, pm) => ({ id: ord.id, user: ord.user, paid: pm.paid })).to(inner)
  o.windowJoin(pay, window.tumbling({ size: 10 }), (ord, pm) => `${ord?.id ?? '-'}:${pm?.paid ?? '-'}`, { type: 'full' }).to(full)
  const summary = await run(p)
  assert.equal(summary.status, 'finished')
  assert.deepEqual(inner.records, [
    { value: { id: 'o1', user: 'ann', paid: 10 }, time: 9, kind: '+I' },
    { value: { id: 'o3', user: 'ann', paid: 25 }, time: 19, kind: '+I' },
  ])
  // o3's payment of 5 at 8 lies in [0, 10), its order in [10, 20).
  assert.deepEqual([...full.values].sort(), ['-:1', '-:5', 'o1:10', 'o2:-', 'o3:25', 'o4:-'])
})

test('windowJoin: records of closed windows come out of the late side output', async () => {
  const p = pipeline('window-join-late', { batchSize: 1 })
  const left = p.from(source.collection([{ k: 'a', ts: 1 }, { k: 'a', ts: 15 }, { k: 'a', ts: 2 }], { eventTime: (x) => x.ts })).keyBy((x) => x.k)
  const right = p.from(source.collection([{ k: 'a', ts: 3 }, { k: 'a', ts: 30 }], { eventTime: (x) => x.ts })).keyBy((x) => x.k)
  const out = sink.collect<string>()
  const late = sink.collect<JoinLateRecord<{ k: string; ts: number }>>()
  const joined = left.windowJoin(right, window.tumbling({ size: 10 }), (l, r) => `${l.ts}-${r.ts}`)
  joined.to(out)
  joined.sideOutput<JoinLateRecord<{ k: string; ts: number }>>('late').to(late)
  const summary = await run(p)
  assert.deepEqual(out.values, ['1-3'])
  assert.deepEqual(
    late.values.map((r) => [r.reason, r.side, r.record.ts]),
    [['window-closed', 'left', 2]],
  )
  assert.equal(summary.late, 1)
})

test('intervalJoin: payments within [-5, +10] ms of their order, and unmatched orders with a left join', async () => {
  const { p, o, pay } = inputs('interval-join')
  const inner = sink.collect<string>()
  const left = sink.collect<{ id: string; paid: number | null }>()
  o.intervalJoin(pay, { lower: -5, upper: '10ms' }, (ord, pm) => `${ord.id}:${pm.paid}`).to(inner)
  o.intervalJoin(pay, { lower: -5, upper: 10, type: 'left' }, (ord, pm) => ({ id: ord.id, paid: pm?.paid ?? null })).to(left)
  await run(p)
  assert.deepEqual([...inner.values].sort(), ['o1:10', 'o3:25', 'o3:5'])
  assert.deepEqual(byJson(left.records), byJson([
    { value: { id: 'o1', paid: 10 }, time: 3, kind: '+I' },
    { value: { id: 'o2', paid: null }, time: 4, kind: '+I' },
    { value: { id: 'o3', paid: 5 }, time: 12, kind: '+I' },
    { value: { id: 'o3', paid: 25 }, time: 14, kind: '+I' },
    { value: { id: 'o4', paid: null }, time: 25, kind: '+I' },
  ]))
})

test('join: a regular left join emits a changelog whose final table is the join', async () => {
  const { p, o, pay } = inputs('regular-join')
  const out = sink.collect<{ id: string; paid: number | null }>()
  o.join(pay, { ttl: '1h', type: 'left' }, (ord, pm) => ({ id: ord.id, paid: pm === null ? null : pm.paid })).to(out)
  await run(p)
  assert.ok(out.records.some((r) => r.kind === '-D'), 'null-padded rows are retracted when a match arrives')
  assert.deepEqual(byJson(out.table()), byJson([
    { id: 'o1', paid: 10 },
    { id: 'o2', paid: null },
    { id: 'o3', paid: 5 },
    { id: 'o3', paid: 25 },
    { id: 'o4', paid: null },
  ]))
})

test('connect(...).process: custom two-input logic with shared keyed state', async () => {
  const { p, o, pay } = inputs('co-process')
  const balance: KeyedCoProcessFunction<string, Order, Payment, { id: string; due: number }> = {
    processElement1(ord, ctx) {
      const paid = ctx.state.value<number>('paid').get() ?? 0
      ctx.state.value<number>('due').set(ord.amount)
      ctx.emit({ id: ctx.key, due: ord.amount - paid })
    },
    processElement2(pm, ctx) {
      const paid = (ctx.state.value<number>('paid').get() ?? 0) + pm.paid
      ctx.state.value<number>('paid').set(paid)
      const due = ctx.state.value<number>('due').get()
      if (due !== undefined) ctx.emit({ id: ctx.key, due: due - paid })
    },
  }
  const out = sink.collect<{ id: string; due: number }>()
  o.connect(pay).process(balance).to(out)
  await run(p)
  const last = new Map(out.values.map((v) => [v.id, v.due]))
  assert.deepEqual(Object.fromEntries(last), { o1: 0, o2: 20, o3: 0, o4: 40 })
})

test('windowJoin refuses session windows when the pipeline is defined', () => {
  const { o, pay } = inputs('session-join')
  assert.throws(
    () => o.windowJoin(pay, window.session({ gap: 10 }), (a, b) => [a, b]),
    (e) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION',
  )
})

test('join functions are typed: the padded side of an outer join may be null', () => {
  const { o, pay } = inputs('types')
  // Never run: these lines only check what the compiler accepts.
  // @ts-expect-error the payment of a left join may be null
  o.windowJoin(pay, window.tumbling({ size: 10 }), (_ord, pm) => pm.paid, { type: 'left' })
  // @ts-expect-error the order of a right join may be null
  o.join(pay, { ttl: '1m', type: 'right' }, (ord, _pm) => ord.amount)
  assert.throws(
    // @ts-expect-error an interval join has no right or full type
    () => o.intervalJoin(pay, { lower: 0, upper: 1, type: 'full' }, (a, b) => [a, b]),
    (e) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION',
  )
  const s = o.intervalJoin(pay, { lower: 0, upper: 1 }, (ord, pm) => ({ user: ord.user, paid: pm.paid }))
  const check: typeof s extends { map(fn: (v: { user: string; paid: number }) => unknown): unknown } ? true : false = true
  assert.equal(check, true)
})

test('a left interval join holds the watermark back, so its unmatched rows are not late downstream', async () => {
  // Orders one second apart, in batches of one so the watermark moves between them; payments never match.
  const many: Order[] = Array.from({ length: 30 }, (_, i) => ({ id: `o${i}`, user: 'u', amount: i, ts: i * 1000 }))
  const p = pipeline('left-interval-hold', { batchSize: 1 })
  const o = p.from(source.collection(many, { eventTime: (x) => x.ts })).keyBy((x) => x.id)
  const pay = p.from(source.collection<Payment>([{ order: 'none', paid: 1, ts: 0 }], { eventTime: (x) => x.ts })).keyBy((x) => x.order)
  const counts = sink.collect<{ key: number; value: number }>()
  const late = sink.collect<unknown>()
  const windowed = o
    .intervalJoin(pay, { lower: 0, upper: '5s', type: 'left' }, (ord, pm) => ({ id: ord.id, paid: pm?.paid ?? null }))
    .windowAll(window.tumbling({ size: '10s' }))
    .count()
  windowed.to(counts as never)
  windowed.sideOutput('late').to(late)
  await run(p)
  assert.deepEqual(late.values, [])
  assert.deepEqual(
    counts.values.map((r) => r.value),
    [10, 10, 10],
  )
})
