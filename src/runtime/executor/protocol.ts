import type { Batch } from '../../core/batch.ts'
import type { MetricsExport } from '../../observe/metrics/registry.ts'
import type { DeadLetter } from '../../dlq/record.ts'
import type { SerializedError } from './serialized-error.ts'
import type { WireBatch } from './batch-codec.ts'
import type { Ack, BarrierSpec, ThreadRestore } from '../../checkpoint/acks.ts'
import type { JobInspector } from '../job/types.ts'
import type { WindowInspection } from '../../operators/window/window-operator.ts'
import type { QualityResult } from '../../contracts/quality/window-checks.ts'

export type { Ack, BarrierSpec, ChannelState, ThreadRestore, VertexWatermarks } from '../../checkpoint/acks.ts'

/**
 * What travels between the threads of a run, over one MessagePort per pair of threads. A message is a bundle of
 * items handled in order; a bundle that holds records takes a credit from its sender, given back (`ack`) once
 * the receiver has handled it. Records, watermarks, barriers and ends of input of one channel (an upstream
 * subtask feeding one input of a vertex) keep their order because a channel is always one port.
 */
export type Item =
  /** Records for input `input` of vertex `v`, from upstream subtask `ch`; keys present on keyed edges. */
  | { t: 'data'; v: number; input: number; ch: number; batch: Batch }
  | { t: 'wm'; v: number; input: number; ch: number; wm: number }
  | { t: 'idle'; v: number; input: number; ch: number }
  | { t: 'barrier'; v: number; input: number; ch: number; id: number }
  /** Upstream subtask `ch` has ended: nothing more comes on this channel. */
  | { t: 'eof'; v: number; input: number; ch: number }
  /** Dead letters for the writer on thread 0; `marker` set: the sender's steps have all passed barrier `marker`. */
  | { t: 'letters'; letters: DeadLetter[] }
  | { t: 'letters-barrier'; id: number; drain: boolean }
  /** To thread 0: this thread's subtask of source vertex `v` has read its splits and asks for another. */
  | { t: 'split-request'; v: number }
  /** From thread 0: a split for this thread's subtask of source vertex `v`, or null: every split is out. */
  | { t: 'split'; v: number; split: number | null }
  | Command
  | Report

/** From thread 0 to every thread (itself included). */
export type Command =
  /** Take checkpoint `id`: snapshot the sources and send the barrier on. */
  | { t: 'checkpoint'; id: number; spec: BarrierSpec }
  /** Checkpoint `id` is durable: commit what sinks pre-committed up to it. */
  | { t: 'commit'; id: number }
  /** Stop reading the sources (a graceful stop). */
  | { t: 'stop' }
  /**
   * Restore before the first record (or start fresh: `restore` undefined). `splits`: thread 0's partitions of
   * the sources that name them (`SourceReader.splits`), taken before restoring so that indices agree.
   */
  | { t: 'start'; restore: ThreadRestore | undefined; splits?: SourceSplits[] }
  /** The run is over: close sinks and state, report metrics and `closed`. */
  | { t: 'close'; commit: boolean }
  /** The control plane asks for window step `step`'s view of `key` at `time`: answered at once with `window`. */
  | { t: 'inspect-window'; id: number; step: string; key: string; time: number }

/** The partitions of source vertex `v`, by name, in index order. */
export interface SourceSplits {
  v: number
  names: string[]
}

/** What a worker thread's subtasks show the control plane, sent with its figures (samples already capped at 16 a step). */
export interface ThreadInspection {
  late: ReturnType<JobInspector['lateSamples']>
  sources: ReturnType<JobInspector['sources']>
  watermarks: ReturnType<JobInspector['watermarks']>
  /** The quality results its `expect` steps emitted since its last report (at most 1,000). */
  quality: QualityResult[]
}

/** From any thread to thread 0. */
export type Report =
  | { t: 'ready'; thread: number; signature: string }
  | { t: 'ack'; ack: Ack }
  | { t: 'committed'; thread: number; id: number }
  | { t: 'drained'; thread: number }
  /** A worker's figures, about once a second and at its close, and its sources' event-time warnings. */
  | { t: 'metrics'; thread: number; data: MetricsExport; warnings?: string[]; inspection?: ThreadInspection }
  /** The answer to `inspect-window` request `id`: undefined when `step` is no window step on that thread. */
  | { t: 'window'; thread: number; id: number; window: WindowInspection | undefined }
  | { t: 'closed'; thread: number }
  | { t: 'fail'; thread: number; error: SerializedError }

export interface Bundle {
  items: Item[]
  /** Bundles of the receiver's that this message answers (credits given back). */
  ack: number
  /** This bundle holds records and takes a credit. */
  data: boolean
}

/** An item as it is posted: a data item's batch encoded into columns (see batch-codec.ts). */
export type WireItem = Exclude<Item, { t: 'data' }> | { t: 'wire'; v: number; input: number; ch: number; batch: WireBatch }

/** A bundle as it is posted; the receiving router decodes it back into a Bundle. */
export interface WireBundle {
  items: WireItem[]
  ack: number
  data: boolean
}
