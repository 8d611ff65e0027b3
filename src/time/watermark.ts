import { parseDuration, type Duration } from '../core/duration.ts'

/** Tracks event time in one source partition and says how far the watermark may go. */
export interface WatermarkGenerator {
  onEvent(ts: number): void
  /** The current watermark: no record with a timestamp at or below it is expected any more. */
  current(): number
  /** The generator's state for a checkpoint (plain data). */
  snapshot(): unknown
  restore(state: unknown): void
}

/**
 * How a source derives its watermark from event times: makes one generator per partition.
 * @example source.jsonl('clicks.jsonl', { eventTime: (c) => c.ts, watermark: watermark.boundedOutOfOrder('5s') })
 */
export interface WatermarkStrategy {
  readonly kind: string
  readonly describe: Record<string, unknown>
  create(): WatermarkGenerator
}

class BoundedOutOfOrderGenerator implements WatermarkGenerator {
  private max = -Infinity
  private readonly delay: number
  constructor(delay: number) {
    this.delay = delay
  }
  onEvent(ts: number): void {
    if (ts > this.max) this.max = ts
  }
  current(): number {
    return this.max === -Infinity ? -Infinity : this.max - this.delay - 1
  }
  snapshot(): unknown {
    return this.max
  }
  restore(state: unknown): void {
    this.max = state as number
  }
}

/**
 * Watermark `delay` behind the highest timestamp seen (minus 1 ms, as in Flink: a record exactly
 * `delay` behind the maximum is still on time).
 * @example source.jsonl('clicks.jsonl', { eventTime: c => c.ts, watermark: watermark.boundedOutOfOrder('5s') })
 */
function boundedOutOfOrder(delay: Duration): WatermarkStrategy {
  const ms = parseDuration(delay, 'watermark.boundedOutOfOrder')
  return { kind: 'bounded-out-of-order', describe: { kind: 'bounded-out-of-order', delayMs: ms }, create: () => new BoundedOutOfOrderGenerator(ms) }
}

/**
 * For timestamps that never go backwards within a partition.
 * @example source.jsonl('log.jsonl', { eventTime: (e) => e.ts, watermark: watermark.monotonic() })
 */
function monotonic(): WatermarkStrategy {
  return { kind: 'monotonic', describe: { kind: 'monotonic' }, create: () => new BoundedOutOfOrderGenerator(0) }
}

/**
 * Built-in watermark strategies for sources.
 * @example watermark.boundedOutOfOrder('5s')
 */
export const watermark = { boundedOutOfOrder, monotonic }
