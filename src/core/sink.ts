import type { Batch } from './batch.ts'

export interface SinkContext {
  readonly pipeline: string
  readonly stepId: string
  readonly subtask: number
  /** True when the run takes checkpoints: transactional sinks then write through preCommit/commit. */
  readonly checkpointing?: boolean
}

/** What a sink promises about duplicates after a failure. */
export type SinkGuarantee = 'exactly-once' | 'at-least-once' | 'none'

/**
 * Writes the batches of one sink subtask. `write` may return a promise (the pipeline waits: backpressure);
 * checkpointed sinks pre-commit at a barrier and commit when the checkpoint completes.
 * @example const writer: SinkWriter<Row> = { write: (batch) => { rows.push(...batch.values) }, close: () => {} }
 */
export interface SinkWriter<T> {
  /** Writes a batch. A returned promise means: send nothing more until it settles (backpressure). */
  write(batch: Batch<T>): void | Promise<void>
  /** Input ended: write out what is buffered. */
  close(): void | Promise<void>
  /**
   * Two-phase commit, phase one, at a checkpoint barrier: make everything written so far durable but not
   * yet visible, and return what `commit` needs (plain data, stored in the checkpoint's manifest).
   */
  preCommit?(checkpointId: number): unknown | Promise<unknown>
  /** Phase two, once the checkpoint is complete: make the pre-committed data visible. Must be idempotent. */
  commit?(checkpointId: number, handle: unknown): void | Promise<void>
  /**
   * On restart from a checkpoint, before any write: commit `restored` (the restored checkpoint's handle,
   * idempotently: it may already be committed) and discard anything written after it.
   */
  recover?(restored: { checkpointId: number; handle: unknown } | undefined): void | Promise<void>
}

/**
 * A sink: its kind, the guarantee it gives, and `open`, which makes a writer per subtask. The built-in
 * ones are in `sink`; implement this for another system.
 * @example p.from(source.collection([1, 2])).to(mySink)
 */
export interface Sink<T> {
  readonly kind: string
  readonly guarantee: SinkGuarantee
  describe(): Record<string, unknown>
  open(ctx: SinkContext): SinkWriter<T> | Promise<SinkWriter<T>>
}
