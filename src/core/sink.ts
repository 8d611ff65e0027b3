import type { Batch } from './batch.ts'
import type { ContractRef } from './contract-ref.ts'

export interface SinkContext {
  readonly pipeline: string
  readonly stepId: string
  /** This writer's subtask, 0 to `parallelism - 1`. */
  readonly subtask: number
  /** How many subtasks the sink runs as in this run (default 1; always 1 for a `singleSubtask` sink). */
  readonly parallelism?: number
  /** True when the run takes checkpoints: transactional sinks then write through preCommit/commit. */
  readonly checkpointing?: boolean
  /**
   * Sends record `index` of `batch`, which this sink cannot write (it cannot be encoded), to the pipeline's
   * error path with its step and position; throws under onError 'fail'. The sink writes the other records.
   * Absent where a sink is opened outside a run: then the sink throws.
   */
  readonly reject?: (batch: Batch, index: number, error: unknown) => void
  /**
   * The data contract the records were checked against before they reach this writer (`withContract` on the
   * sink): a sink may take its columns from the contract's schema (Parquet) or add the columns a new version
   * of it adds (DuckDB, Postgres). Absent for a sink without a contract.
   */
  readonly contract?: ContractRef
  /**
   * Tells the user something about this run that does not stop it (a slower path taken, a setting worth
   * changing): shown once among the run's warnings. Absent where a sink is opened outside a run.
   * @example ctx.warn?.("sink.postgres 'sink-1': the server allows no prepared transactions; rows are staged")
   */
  readonly warn?: (message: string) => void
}

/** What a sink promises about duplicates after a failure. */
export type SinkGuarantee = 'exactly-once' | 'at-least-once' | 'none'

/** The run a guarantee is asked for. */
export interface SinkRun {
  /** The run takes checkpoints. */
  readonly checkpointing: boolean
}

/**
 * A handle a subtask inherits on restore: what old subtask `subtask` pre-committed at checkpoint
 * `checkpointId` and had not committed when the restored checkpoint was taken.
 */
export interface RestoredHandle {
  readonly subtask: number
  readonly checkpointId: number
  readonly handle: unknown
}

/**
 * Writes the batches of one sink subtask. `write` may return a promise (the pipeline waits: backpressure);
 * checkpointed sinks pre-commit at a barrier and commit when the checkpoint completes.
 * @example
 * const rows: Click[] = []
 * const writer: SinkWriter<Click> = { write: (batch) => { rows.push(...batch.values) }, close: () => {} }
 */
export interface SinkWriter<T> {
  /** Writes a batch. A returned promise means: send nothing more until it settles (backpressure). */
  write(batch: Batch<T>): void | Promise<void>
  /** Input ended: write out what is buffered. */
  close(): void | Promise<void>
  /**
   * Bytes written so far by this writer, for the step's `bytesOut` metric; read about once a second. Sinks that
   * cannot tell leave it out (the metric stays 0).
   * @example bytesWritten: () => parts.bytesWritten
   */
  bytesWritten?(): number
  /**
   * Requests to the external system sent again after a failure (throttling, a dropped connection) so far, for
   * the step's `retries` metric; read about once a second. Optional.
   * @example retries: () => client.retriedRequests
   */
  retries?(): number
  /**
   * Two-phase commit, phase one, at a checkpoint barrier (in the subtask's thread): make everything written
   * so far durable but not yet visible, and return what `commit` needs (plain data, stored in the
   * checkpoint's manifest).
   */
  preCommit?(checkpointId: number): unknown | Promise<unknown>
  /** Phase two, once the checkpoint is complete: make the pre-committed data visible. Must be idempotent. */
  commit?(checkpointId: number, handle: unknown): void | Promise<void>
  /**
   * At start, before any write: `restored` holds every handle this subtask inherits from the checkpoint
   * restored (those of old subtasks j with j % parallelism === subtask, when the parallelism changed). The
   * writer commits them (idempotently: they may be committed already) and discards what those old subtasks
   * wrote and did not commit. An empty list is a fresh start.
   * @example recover: (restored) => tpc.recover(restored) // see checkpoint/two-phase-commit.ts
   */
  recover?(restored: readonly RestoredHandle[]): void | Promise<void>
  /**
   * Called once checkpoint `checkpointId` is durable, after `commit`: the place for work an external system
   * needs on completion beyond the commit itself (acknowledging, compacting). Optional.
   * @example onCheckpointComplete: (id) => client.ack(id)
   */
  onCheckpointComplete?(checkpointId: number): void | Promise<void>
}

/**
 * A sink: its kind, the guarantee it gives, and `open`, which makes a writer per subtask. The built-in
 * ones are in `sink`; implement this for another system.
 * @example
 * const printer: Sink<Click> = { kind: 'printer', guarantee: 'at-least-once', describe: () => ({ kind: 'printer' }), open: () => ({ write: (b) => { for (const c of b.values) console.log(c.page) }, close: () => {} }) }
 * clicks.to(printer)
 */
export interface Sink<T> {
  readonly kind: string
  /** The best guarantee the sink gives (with checkpoints); `guaranteeFor` says what it gives in a given run. */
  readonly guarantee: SinkGuarantee
  /** The guarantee in a run with or without checkpoints. Default: `guarantee` in either. */
  guaranteeFor?(run: SinkRun): SinkGuarantee
  /**
   * Runs as one subtask on the coordinating thread whatever the parallelism (one writer per database
   * file, ordered output). Default false: one writer per subtask.
   */
  readonly singleSubtask?: boolean
  /**
   * True when output a checkpoint committed cannot be taken back by restoring an older one (an append-only log
   * that others may have read): a restore then refuses to fall back past a damaged checkpoint unless duplicates
   * are accepted. Default false: the sink's recover discards what later checkpoints committed.
   */
  readonly appendOnly?: boolean
  /** The data contract its records are checked against before the write (see `withContract`). */
  readonly contract?: ContractRef
  describe(): Record<string, unknown>
  open(ctx: SinkContext): SinkWriter<T> | Promise<SinkWriter<T>>
}

/**
 * What `sink` guarantees in `run`.
 * @example sinkGuarantee(sink.jsonl('out.jsonl'), { checkpointing: false }) // 'at-least-once'
 */
export function sinkGuarantee(sink: Pick<Sink<unknown>, 'guarantee' | 'guaranteeFor'>, run: SinkRun): SinkGuarantee {
  return sink.guaranteeFor?.(run) ?? sink.guarantee
}
