import type { Batch, Position } from './batch.ts'
import type { WatermarkStrategy } from '../time/watermark.ts'
import type { ContractRef } from './contract-ref.ts'

/** Returned by `SourceReader.read` when a partition has no more data. */
export const END: unique symbol = Symbol('end')
export type SourceRead<T> = Batch<T> | null | typeof END

export interface SourceContext {
  readonly pipeline: string
  readonly stepId: string
  readonly signal: AbortSignal
  /**
   * The pipeline's buffer timeout (ms): the longest a record should wait in the source before `read` hands it
   * over. A source that polls polls at least this often; one that paces its output releases batches of at most
   * this long. Absent where no pipeline is attached.
   */
  readonly bufferTimeoutMs?: number
  /**
   * Which subtask of the source step opens this reader, of how many (absent where no pipeline is attached:
   * 0 of 1). Partition p is read by subtask p mod `subtasks`; a source that must exist once per pipeline (a
   * listening port, a broker session) opens it on subtask 0 and gives the others a reader that reads nothing.
   */
  readonly subtask?: number
  readonly subtasks?: number
  /**
   * Reports a record the source could not decode; applies the pipeline's error policy. `raw` is the
   * record exactly as read: a string when its bytes are valid UTF-8, else the bytes themselves.
   */
  malformed(error: unknown, raw: string | Uint8Array, position: Position): void
  /**
   * Reports a decoded record that breaks the source's data contract; applies the pipeline's error policy
   * (dead letters give the reason `validation`). Absent where no runtime is attached (then use `malformed`).
   */
  invalid?(error: unknown, record: unknown, position: Position | undefined): void
}

/**
 * A running source: a fixed number of partitions, each read in order.
 * @example
 * const items = [1, 2, 3]
 * const reader: SourceReader<number> = {
 *   partitions: 1,
 *   read: (_partition, max) => { const values = items.splice(0, max); return { values, times: values.map(() => Date.now()) } },
 *   close: () => {},
 * }
 */
export interface SourceReader<T> {
  readonly partitions: number
  /**
   * Reads up to `max` records of `partition`. Resolves with a batch (values and positions; the
   * runtime assigns event times), with `null` when no record arrived within the source's poll
   * interval (unbounded sources only), or with `END` when the partition is exhausted.
   */
  read(partition: number, max: number): SourceRead<T> | Promise<SourceRead<T>>
  /**
   * Where each partition stands after the last record `read` returned: plain data (a byte offset, a log
   * offset, a sequence number) that a checkpoint records. Sources without it cannot be checkpointed.
   */
  positions?(): unknown[]
  /**
   * How far a bounded source has read `partition`: `done` of `total` units (bytes for the file sources). The
   * progress line shows percent done and an ETA from it. Unbounded sources, or those that cannot tell, leave it out.
   */
  progress?(partition: number): { done: number; total: number }
  /**
   * True while the reader stands where it could not resume from: part way through an initial snapshot that a
   * restart cannot read again the same way. A checkpoint or savepoint waits until it is false (its barrier
   * leaves the source afterwards), and the source keeps reading meanwhile, even once a stop is asked for, so the
   * state a checkpoint holds never includes a part of a snapshot that its positions would read again.
   * @example holdsBarriers: () => snapshotting
   */
  holdsBarriers?(): boolean
  /** Called once, before the first read, when resuming from a checkpoint: continue after `positions`. */
  seek?(positions: unknown[]): void | Promise<void>
  /**
   * Called once checkpoint `checkpointId` is durable (its manifest is written): the place to commit the
   * positions it holds back to an external system (Kafka consumer offsets, a queue's acknowledgements).
   * Nothing may depend on it for correctness inside the engine: a crash before it runs restores the same
   * checkpoint, whose positions are what counts.
   * @example onCheckpointComplete: (id) => consumer.commitOffsets(offsetsAt.get(id))
   */
  onCheckpointComplete?(checkpointId: number): void | Promise<void>
  /**
   * Bytes read so far by this reader (all its partitions), for the step's `bytesIn` metric; read about once a
   * second. Sources that cannot tell leave it out (the metric stays 0).
   * @example bytesRead: () => consumed
   */
  bytesRead?(): number
  /**
   * How far this reader is behind the end of `partition`: records not yet read (a log's or Kafka's end offset
   * minus the reader's position), or bytes left for file sources (see `lagUnit`); read about once a second for
   * the consumer-lag metric. Sources that cannot tell leave it out.
   * @example lag: (p) => endOffset(p) - positions[p]
   */
  lag?(partition: number): number
  /** The unit of `lag`: 'records' (default) or 'bytes'. */
  readonly lagUnit?: 'records' | 'bytes'
  /**
   * For an unbounded source whose partitions can grow (Kafka topics created later that match a pattern,
   * partitions added to a topic): looks for new partitions and appends them, never changing the indices of the
   * others; resolves with the number of partitions now. The runtime calls it on subtask 0 every
   * `discoverEveryMs`; subtask 0 reads what it finds for the rest of the run (a restore spreads them over the
   * subtasks like the others, see `splits`).
   * @example discover: async () => { parts.push(...(await newPartitions())); return parts.length }
   */
  discover?(): Promise<number>
  /** How often `discover` runs, in ms. */
  readonly discoverEveryMs?: number
  /**
   * The partitions' names in index order, for a source whose subtasks may see different partitions when they
   * open at different moments: subtask 0's names are given to every other subtask's `adopt` before the first
   * read, so that an index means the same partition everywhere. Such a source's positions name their partition,
   * and its `seek` puts the checkpoint's partitions first, in the checkpoint's order, then the others.
   * @example splits: () => parts.map((p) => `${p.topic}/${p.partition}`)
   */
  splits?(): string[]
  /** Takes exactly the partitions `names` (subtask 0's `splits()`), in their order, before the first read or seek. */
  adopt?(names: string[]): void | Promise<void>
  close(): void | Promise<void>
}

export interface SourceOptions<T> {
  /** Event time of a record, in epoch ms. Without it the source runs in processing time. */
  eventTime?: (value: T) => number
  /** How watermarks follow event time; default bounded out-of-orderness of 0 (monotonic). */
  watermark?: WatermarkStrategy
  /** A partition that yields nothing for this long stops holding the watermark back. */
  idleTimeout?: number | string
  /**
   * How far ahead of the clock an event time may be (default '1d'). A record stamped later goes to the error
   * path (SLUICE_EVENT_TIME_IN_FUTURE) instead of carrying the watermark ahead; false turns the guard off.
   */
  maxFutureSkew?: number | string | false
}

/**
 * A source as declared in a pipeline: plain description plus a way to open it.
 * @example
 * const idle: Source<number> = { kind: 'idle', bounded: false, options: {}, describe: () => ({ kind: 'idle' }), open: () => ({ partitions: 1, read: () => null, close: () => {} }) }
 * p.from(idle).map((n) => n * 2)
 */
export interface Source<T> {
  readonly kind: string
  readonly bounded: boolean
  readonly options: SourceOptions<T>
  /**
   * A bounded source whose partitions any subtask may read (files): with more partitions than subtasks, each
   * subtask starts with one and gets the next from thread 0 when its own have ended, instead of partition p
   * going to subtask p mod N. Balances uneven partitions; which subtask reads a partition then depends on
   * timing, so a record's lateness may differ from run to run (none is late while event times stay within the
   * watermark's bound in each partition).
   * @example { kind: 'jsonl', bounded: true, assignSplitsOnDemand: true, ... }
   */
  readonly assignSplitsOnDemand?: boolean
  describe(): Record<string, unknown>
  /** The data contract its records are checked against at the edge (see `withContract`). */
  readonly contract?: ContractRef
  open(ctx: SourceContext): SourceReader<T> | Promise<SourceReader<T>>
}
