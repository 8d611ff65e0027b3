import type { Batch } from '../../core/batch.ts'
import { SluiceError, errorMessage, type ErrorCode, type ErrorDomain } from '../../core/errors.ts'
import type { StepMetricsJson } from '../../core/metrics.ts'
import type { DeadLetter } from '../../dlq/record.ts'

/**
 * Messages between the main thread (the hub) and the workers. Each postMessage carries a bundle of items
 * that are handled in order; every bundle the hub sends is answered by exactly one bundle (`acked: 1`) once the
 * worker has handled it, which is what the hub's credits count.
 */
export type HubItem =
  /** A batch for input `input` of parallel vertex `v`; keys are present on keyed edges. */
  | { t: 'data'; v: number; input: number; batch: Batch }
  | { t: 'wm'; v: number; input: number; wm: number }
  | { t: 'idle'; v: number; input: number }
  /** Every input of vertex `v` has ended: emit what it still holds. */
  | { t: 'finish'; v: number }
  /** The run is over: report metrics. */
  | { t: 'end' }
  /** Checkpoint barrier `id` has passed every input of keyed vertex `v`: snapshot it and pass the barrier on. */
  | { t: 'barrier'; v: number; id: number }
  /** Before any data: state and watermarks restored from a checkpoint, per vertex of this subtask. */
  | { t: 'restore'; vertices: VertexRestore[] }

export type WorkerItem =
  | { t: 'ready'; signature: string }
  /** Output for vertex `to` (not on this worker); `sub` is the target subtask on keyed edges between parallel vertices. */
  | { t: 'data'; to: number; input: number; sub?: number; batch: Batch }
  | { t: 'wm'; to: number; input: number; wm: number }
  | { t: 'idle'; to: number; input: number }
  /** Records for the pipeline's errors() stream (policy 'error-output'). */
  | { t: 'errors'; batch: Batch }
  /** Records for the dead-letter writer on the main thread (policy 'dead-letter'). */
  | { t: 'dead-letters'; letters: DeadLetter[] }
  | { t: 'metrics'; steps: StepMetricsJson[] }
  | { t: 'fail'; error: SerializedError }
  /** Checkpoint barrier `id` on the edge into input `input` of vertex `to`: what this subtask sends on it next is after the barrier. */
  | { t: 'barrier'; to: number; input: number; id: number }
  /** Vertex `v` of this subtask at barrier `id`: its operator's state as state files (see encodeState; absent without state), watermarks and metrics. */
  | { t: 'snapshot'; v: number; id: number; state: Uint8Array[] | undefined; wm: VertexWatermarks; steps: StepMetricsJson[]; ms: number }

/** A vertex's watermarks, saved with a checkpoint so a restored job never moves event time backwards. */
export interface VertexWatermarks {
  watermark: number
  forwarded: number
  inputs: number[]
}

export interface VertexRestore {
  v: number
  /** What the operator restores from (a KeyedRestore for keyed operators); absent when it has no state. */
  state?: unknown
  wm?: VertexWatermarks
}

export interface HubMessage {
  items: HubItem[]
}

export interface WorkerMessage {
  /** Hub bundles this message answers (0 or 1). */
  acked: number
  items: WorkerItem[]
}

export interface WorkerInit {
  module: string
  params: Record<string, string>
  subtask: number
  parallelism: number
  signature: string
  /** The run takes checkpoints: vertices fed by other vertices of the subtask align barriers over their inputs. */
  checkpointing?: boolean
}

export interface SerializedError {
  name: string
  message: string
  stack: string | undefined
  code: ErrorCode | undefined
  domain: ErrorDomain | undefined
  retryable: boolean | undefined
  step: string | undefined
  position: string | number | undefined
  hint: string | undefined
  cause: string | undefined
}

/** An error as plain data, keeping a SluiceError's code, step, position and hint. */
export function serializeError(e: unknown): SerializedError {
  const err = e instanceof Error ? e : undefined
  const s = e instanceof SluiceError ? e : undefined
  return {
    name: err?.name ?? 'Error',
    message: errorMessage(e),
    stack: err?.stack,
    code: s?.code,
    domain: s?.domain,
    retryable: s?.retryable,
    step: s?.step,
    position: s?.position,
    hint: s?.hint,
    cause: err?.cause === undefined ? undefined : errorMessage(err.cause),
  }
}

/** Rebuilds a serialised error: a SluiceError stays one (same code and fields); anything else is internal. */
export function deserializeError(s: SerializedError, where: string): SluiceError {
  const cause = s.cause === undefined ? undefined : new Error(s.cause)
  if (s.code !== undefined) {
    const e = new SluiceError(s.code, s.message, { domain: s.domain, retryable: s.retryable, step: s.step, position: s.position, hint: s.hint, cause })
    if (s.stack !== undefined) e.stack = s.stack
    return e
  }
  const inner = new Error(s.message)
  inner.name = s.name
  if (s.stack !== undefined) inner.stack = s.stack
  return new SluiceError('SLUICE_INTERNAL', `${where} failed`, { domain: 'internal', cause: inner })
}
