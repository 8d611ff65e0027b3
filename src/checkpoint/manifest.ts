import type { SourceSnapshot } from '../runtime/source-runner.ts'

export const MANIFEST_FORMAT = 1

/** What a checkpoint or savepoint holds; written last, atomically: its presence makes the checkpoint complete. */
export interface Manifest {
  format: number
  kind: 'checkpoint' | 'savepoint'
  id: number
  pipeline: string
  createdAt: string
  parallelism: number
  keyGroups: number
  sources: { step: string; kind: string; state: SourceSnapshot }[]
  operators: OperatorEntry[]
  /** Sink handles not yet committed when the checkpoint was taken (its own and any of failed checkpoints before it). */
  sinks: { step: string; kind?: string; pending: { checkpointId: number; handle: unknown }[] }[]
  /** Runtime watermarks per vertex, so a restored job never moves event time backwards. */
  vertices: { id: string; watermark: number; forwarded: number; inputs: number[] }[]
  metrics: { step: string; in: number; out: number; late: number; errors: number; dropped: number }[]
  /**
   * Parallel runs: records between threads that were held back for watermark alignment at the barrier, per input
   * of the step they go to (`data`: v8-serialized `{ level, item }[]`, base64). They are delivered after a restore.
   */
  channels?: { to: string; input: number; data: string }[]
}

/** One operator's state: which step, what state it declares, and its file(s) with sizes and checksums. */
export interface OperatorEntry {
  step: string
  kind: string
  keyed: boolean
  /** The step's configuration when the state was written; a restore compares it with the pipeline's. */
  descriptor: Record<string, unknown>
  /** The state files, in order: with incremental checkpoints, the base's files first, then each delta's. */
  files: StateFileRef[]
}

/** A state file of an operator, with its size and checksum. */
export interface StateFileRef {
  subtask: number
  file: string
  bytes: number
  sha256: string
  /** The checkpoint whose folder holds the file (a sibling `chk-…` folder), when not this one. */
  checkpoint?: number
  /** The file holds a delta (changes since the previous file's checkpoint), not a full snapshot. */
  delta?: boolean
}

/** Sizes and times of a taken checkpoint, for reporting. */
export interface CheckpointStats {
  id: number
  bytes: number
  /** Time to wait for reads in flight and snapshot every operator (processing stops for this long). */
  syncMs: number
  /** Time to write and fsync files and the manifest (processing goes on meanwhile). */
  asyncMs: number
  /** Time from the barrier until every input had delivered it (0 on one thread: inputs are aligned as the barrier passes). */
  alignmentMs: number
  /** An incremental checkpoint: some steps wrote only their changes since the previous one. */
  delta?: boolean
}
