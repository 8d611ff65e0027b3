import type { ProcessContext } from '../process/process-function.ts'

/**
 * inner: matched pairs only; left/right/full: also unmatched records of that side, paired with null.
 * @example orders.keyBy((o) => o.customer).join(customers.keyBy((c) => c.id), { ttl: '1d', type: 'full' }, (o, c) => ({ order: o?.id, country: c?.country }))
 */
export type JoinType = 'inner' | 'left' | 'right' | 'full'

export type JoinFn<L, R, O> = (left: L, right: R) => O

/**
 * Custom two-input keyed logic with shared keyed state and timers (Flink's KeyedCoProcessFunction).
 * Both inputs are keyed the same way; `ctx.key` is the current key.
 * @example
 * const paid: KeyedCoProcessFunction<string, Order, Payment, string> = {
 *   processElement1(o, ctx) { ctx.state.value<Order>('order').set(o) },
 *   processElement2(pay, ctx) { const o = ctx.state.value<Order>('order').get(); if (o !== undefined) ctx.emit(o.id) },
 * }
 * orders.keyBy((o) => o.id).connect(payments.keyBy((pay) => pay.order)).process(paid)
 */
export interface KeyedCoProcessFunction<K, A, B, O> {
  processElement1(value: A, ctx: ProcessContext<K, O>): void
  processElement2(value: B, ctx: ProcessContext<K, O>): void
  onTimer?(time: number, ctx: ProcessContext<K, O>): void
}

/**
 * A record that reached a join after the watermark had passed every result it could be part of, as sent
 * to the join's `late` side output. `side` says which input it came from.
 */
export interface JoinLateRecord<T = unknown> {
  step: string
  reason: 'window-closed' | 'interval-closed'
  time: number
  watermark: number
  record: T
  side: 'left' | 'right'
}
