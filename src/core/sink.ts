import type { Batch } from './batch.ts'

export interface SinkContext {
  readonly pipeline: string
  readonly stepId: string
  readonly subtask: number
}

/** What a sink promises about duplicates after a failure. */
export type SinkGuarantee = 'exactly-once' | 'at-least-once' | 'none'

export interface SinkWriter<T> {
  /** Writes a batch. A returned promise means: send nothing more until it settles (backpressure). */
  write(batch: Batch<T>): void | Promise<void>
  /** Input ended: write out what is buffered. */
  close(): void | Promise<void>
}

export interface Sink<T> {
  readonly kind: string
  readonly guarantee: SinkGuarantee
  describe(): Record<string, unknown>
  open(ctx: SinkContext): SinkWriter<T> | Promise<SinkWriter<T>>
}
