import type { ProcessContext } from '../process/process-function.ts'

/** inner: matched pairs only; left/right/full: also unmatched records of that side, paired with null. */
export type JoinType = 'inner' | 'left' | 'right' | 'full'

export type JoinFn<L, R, O> = (left: L, right: R) => O

/**
 * Custom two-input keyed logic with shared keyed state and timers (Flink's KeyedCoProcessFunction).
 * Both inputs are keyed the same way; `ctx.key` is the current key.
 */
export interface KeyedCoProcessFunction<K, A, B, O> {
  processElement1(value: A, ctx: ProcessContext<K, O>): void
  processElement2(value: B, ctx: ProcessContext<K, O>): void
  onTimer?(time: number, ctx: ProcessContext<K, O>): void
}
