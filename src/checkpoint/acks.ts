import type { Batch } from '../core/batch.ts'
import type { StepMetricsJson } from '../core/metrics.ts'
import type { SourceSnapshot, StateFileRef } from './manifest.ts'

// What subtasks tell the checkpoint coordinator at a barrier, and what each thread restores: plain data that
// crosses threads (and, with the Kafka runner, processes).

/** What a barrier asks of the steps it passes. */
export interface BarrierSpec {
  /** `checkpoint` and `savepoint` snapshot state; `drain` (a stop without checkpoints) only flushes what inputs hold. */
  kind: 'checkpoint' | 'savepoint' | 'drain'
  /** Incremental steps may write only their changes since the previous checkpoint. */
  delta: boolean
  /** Folder where subtasks write their state files (a checkpoint's staging folder). */
  staging: string | undefined
  /**
   * A savepoint into a bucket: its `s3://` address. Threads of other processes (the Kafka runner's, perhaps
   * on other machines) stage their files on their own machine and upload them there themselves.
   */
  target?: string
}

/** One subtask's part of checkpoint `id`. */
export type Ack = { id: number; vertex: number; subtask: number; ms: number } & (
  | { kind: 'source'; state: SourceSnapshot; owned: number[]; wm: VertexWatermarks; steps: StepMetricsJson[] }
  | {
      kind: 'operator'
      files: StateFileRef[] | undefined
      plain: unknown
      delta: boolean
      bytes: number
      /** The approximate bytes of the step's keyed state where it lives (`StateBackend.approximateBytes`), if it has any. */
      stateSize?: number
      wm: VertexWatermarks
      steps: StepMetricsJson[]
      channels: ChannelState[]
      alignmentMs: number
      /** The files are already in the checkpoint storage: uploaded by the process that wrote them (not in the staging folder). */
      stored?: boolean
    }
  | { kind: 'sink'; pending: { checkpointId: number; handle: unknown }[]; wm: VertexWatermarks; steps: StepMetricsJson[]; alignmentMs: number }
  | { kind: 'dead-letters'; pending: { checkpointId: number; handle: unknown }[] }
  | { kind: 'drained' }
)

export interface VertexWatermarks {
  watermark: number
  forwarded: number
  inputs: number[]
}

/** Records an input held back for the watermark of slower channels when the barrier passed: they are in flight. */
export interface ChannelState {
  input: number
  /** The watermark of each channel of the input. */
  wms: number[]
  held: { level: number; batch: Batch }[]
}

/** What one thread restores: per vertex of its subtask, state, watermarks and held records; sources and sinks. */
export interface ThreadRestore {
  checkpointId: number
  vertices: { vertex: number; state: unknown; wm: VertexWatermarks | undefined; channels: ChannelState[] }[]
  sources: { vertex: number; state: SourceSnapshot }[]
  sinks: { vertex: number; inherited: { subtask: number; checkpointId: number; handle: unknown }[][] }[]
  deadLetters: { checkpointId: number; handle: unknown }[] | undefined
  metrics: StepMetricsJson[]
}

