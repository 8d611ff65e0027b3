import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OperatorHarness } from '../../testing/operator-harness.ts'
import { CoProcessOperator } from './co-process-operator.ts'
import type { KeyedCoProcessFunction } from './join-types.ts'

interface Order {
  id: string
  amount: number
}
interface Payment {
  order: string
  paid: number
}

/**
 * Matches orders with payments by order id, whichever comes first; an order still unpaid 10 ms (event
 * time) after it arrived is reported on the 'unpaid' side output; a processing-time timer says 'bye'.
 */
const matcher: KeyedCoProcessFunction<string, Order, Payment, string> = {
  processElement1(o, ctx) {
    const p = ctx.state.value<Payment>('payment').get()
    if (p !== undefined) {
      ctx.emit(`${o.id}: ${o.amount} paid ${p.paid}`)
      ctx.state.value('payment').clear()
      return
    }
    ctx.state.value<Order>('order').set(o)
    ctx.timers.eventTime(ctx.timestamp + 10)
  },
  processElement2(p, ctx) {
    if (p.paid < 0) throw new Error('negative payment')
    const o = ctx.state.value<Order>('order').get()
    if (o !== undefined) {
      ctx.emit(`${o.id}: ${o.amount} paid ${p.paid}`)
      ctx.state.value('order').clear()
      ctx.timers.deleteEventTime(ctx.timestamp + 10)
      return
    }
    ctx.state.value<Payment>('payment').set(p)
    ctx.timers.processingTime(ctx.now + 100)
  },
  onTimer(time, ctx) {
    if (ctx.timeDomain === 'processing') {
      ctx.emit(`${ctx.key}: bye at ${time}`)
      return
    }
    const o = ctx.state.value<Order>('order').get()
    if (o !== undefined) ctx.side('unpaid', { id: o.id, at: time, watermark: ctx.watermark })
    ctx.state.value('order').clear()
  },
}

function harness() {
  return new OperatorHarness((ctx) => new CoProcessOperator(matcher as never, ctx), { onError: 'error-output' })
}

const order = (id: string, amount: number, time: number) => ({ value: { id, amount }, time, key: id })
const payment = (id: string, paid: number, time: number) => ({ value: { order: id, paid }, time, key: id })

test('co-process: element 1 for input 0, element 2 for input 1, sharing the state of a key', () => {
  const h = harness()
  h.push([order('o1', 10, 1), order('o2', 20, 2)], 0)
  h.push([payment('o1', 10, 3)], 1)
  assert.deepEqual(h.take(), [{ value: 'o1: 10 paid 10', time: 3, kind: '+I' }])
  h.push([payment('o3', 5, 4)], 1)
  h.push([order('o3', 5, 6)], 0)
  assert.deepEqual(h.take(), [{ value: 'o3: 5 paid 5', time: 6, kind: '+I' }])
  assert.equal(h.metrics.recordsOut, 2)
})

test('co-process: event timers fire by watermark with the key set; processing timers by clock and at finish', () => {
  const h = harness()
  h.push([order('o1', 10, 1), order('o2', 20, 2)], 0)
  h.push([payment('o1', 10, 3)], 1)
  h.take()
  h.watermark(11)
  assert.deepEqual(h.takeSide('unpaid'), [], 'o1 was paid: its timer was deleted')
  h.watermark(12)
  assert.deepEqual(h.takeSide('unpaid'), [{ value: { id: 'o2', at: 12, watermark: 12 }, time: 12, kind: '+I' }])
  h.push([payment('o9', 1, 20)], 1)
  h.advanceProcessingTime(100)
  assert.deepEqual(h.take(), [{ value: 'o9: bye at 100', time: 100, kind: '+I' }])
  h.push([payment('o8', 1, 20)], 1)
  h.end()
  assert.deepEqual(h.takeValues(), ['o8: bye at 200'])
})

test('co-process: a failing function is reported with the record and the run goes on', () => {
  const h = harness()
  h.push([payment('o1', -1, 1), payment('o2', 3, 1)], 1)
  const errors = h.takeErrors()
  assert.equal(errors.length, 1)
  assert.equal(errors[0].error, 'negative payment')
  assert.deepEqual(errors[0].record, { order: 'o1', paid: -1 })
  h.push([order('o2', 3, 2)], 0)
  assert.deepEqual(h.takeValues(), ['o2: 3 paid 3'])
})

function feed(h: OperatorHarness, snapshot: boolean): void {
  h.push([order('o1', 10, 1), order('o2', 20, 2)], 0)
  h.push([payment('o3', 7, 2)], 1)
  if (snapshot) h.snapshotAndRestore()
  h.watermark(5)
  h.push([payment('o1', 10, 6)], 1)
  if (snapshot) h.snapshotAndRestore()
  h.advanceProcessingTime(50)
  h.push([order('o3', 7, 8)], 0)
  h.watermark(20)
  h.end()
}

test('co-process: snapshot and restore mid-stream gives the same output, state and timers included', () => {
  const a = harness()
  feed(a, false)
  const b = harness()
  feed(b, true)
  const out = a.take()
  assert.deepEqual(out.map((r) => r.value), ['o1: 10 paid 10', 'o3: 7 paid 7', 'o3: bye at 100'])
  assert.deepEqual(b.take(), out)
  assert.deepEqual(b.takeSide('unpaid'), a.takeSide('unpaid'))
})
