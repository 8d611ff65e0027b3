import type { StateDescriptor } from '../../core/state-backend.ts'

/**
 * Keyed state of the current key, by name, or by a descriptor with a TTL and a codec
 * (`{ name: 'seen', ttl: { ttl: '1h' } }`). Handles are cached: call these freely in the hot path.
 * A value read and changed must be set again (`top.push(x); s.set(top)`): the durable store keeps copies, and
 * keeps (and checkpoints) only what is set; the heap keeps the object itself.
 */
export interface KeyedStateAccess {
  value<T>(state: string | StateDescriptor): { get(): T | undefined; set(value: T): void; clear(): void }
  map<K, V>(state: string | StateDescriptor): { get(field: K): V | undefined; set(field: K, value: V): void; delete(field: K): void; entries(): Iterable<[K, V]>; clear(): void }
  list<T>(state: string | StateDescriptor): { get(): readonly T[]; add(value: T): void; set(values: T[]): void; clear(): void }
}

export interface TimerAccess {
  /** Calls `onTimer` once the watermark reaches `time` (event time). */
  eventTime(time: number): void
  /** Calls `onTimer` once the processing-time clock reaches `time`. */
  processingTime(time: number): void
  deleteEventTime(time: number): void
  deleteProcessingTime(time: number): void
}

/**
 * What a keyed process function gets with each record and timer: the key, event and processing time,
 * timers, keyed state, and outputs.
 * @example keyed.process({ processElement(e, ctx) { ctx.timers.eventTime(ctx.timestamp + 60_000); ctx.emit(e) } })
 */
export interface ProcessContext<K, O> {
  readonly key: K
  /** Event time of the record being processed, or the time of the timer that fired. */
  readonly timestamp: number
  readonly watermark: number
  /** Processing time now. */
  readonly now: number
  /** In `onTimer`: which clock fired. */
  readonly timeDomain: 'event' | 'processing'
  readonly state: KeyedStateAccess
  readonly timers: TimerAccess
  /** Emits to the main output, at `time` (default: the current timestamp). */
  emit(value: O, time?: number): void
  /** Emits to a named side output. */
  side(tag: string, value: unknown, time?: number): void
}

/**
 * Custom keyed logic with state and timers (Flink's KeyedProcessFunction).
 * @example
 * stream.keyBy(c => c.user).process<Alert>({
 *   processElement(c, ctx) {
 *     const n = (ctx.state.value<number>('n').get() ?? 0) + 1
 *     ctx.state.value<number>('n').set(n)
 *     if (n === 100) ctx.emit({ user: ctx.key, n })
 *   },
 * })
 */
export interface KeyedProcessFunction<K, T, O> {
  processElement(value: T, ctx: ProcessContext<K, O>): void
  onTimer?(time: number, ctx: ProcessContext<K, O>): void
}
