import type { CheckpointStats } from '../../checkpoint/manifest.ts'
import type { MetricsSnapshot } from '../../observe/metrics/registry.ts'
import type { RunSummary } from '../run-types.ts'
import type { Log } from '../../log/index.ts'
import type { WindowInspection } from '../../operators/window/window-operator.ts'
import type { LateSample } from '../late-samples.ts'

/**
 * Where a job is in its life. `finishing`: input ended, the last checkpoint and commits are under way;
 * `stopping`: a stop (or a savepoint with stop) was asked. The last four are final.
 * @example const { status, since } = job.status() // 'running', since an epoch ms
 */
export type JobStatus = 'starting' | 'running' | 'finishing' | 'stopping' | 'finished' | 'stopped' | 'failed' | 'cancelled'

/**
 * Why a job stops: its input ended, `stop()`, `cancel()`, or a savepoint taken with `{ stop: true }`.
 * @example job.on((e) => { if (e.type === 'stop') console.log(`stopping: ${e.reason}`) })
 */
export type StopReason = 'end-of-input' | 'stop' | 'cancel' | 'savepoint'

/**
 * What happens to a running job, in order.
 * @example for await (const e of job.events()) if (e.type === 'checkpoint-failed') console.error(e.error)
 */
export type JobEvent =
  | { type: 'status'; status: JobStatus; at: number }
  | { type: 'checkpoint-completed'; stats: CheckpointStats; savepoint?: string }
  | { type: 'checkpoint-failed'; id: number; error: string }
  | { type: 'restored'; id: number; from: string }
  | { type: 'error'; error: { code: string; message: string } }
  | { type: 'stop'; reason: StopReason }

/**
 * The one way to talk to a running job: its status, live metrics and events, and the commands checkpoint,
 * savepoint, stop (graceful: a last checkpoint, sinks commit) and cancel (at once: no checkpoint, no commit).
 * @example
 * const job = start(p, { checkpoint: { dir: 'state', intervalMs: 10_000 } })
 * job.on((e) => { if (e.type === 'checkpoint-completed') console.log(`checkpoint ${e.stats.id}`) })
 * await job.savepoint('savepoints/v1', { stop: true })
 * const summary = await job.done
 */
export interface JobHandle {
  readonly pipeline: string
  status(): { status: JobStatus; since: number }
  metrics(): MetricsSnapshot
  /** Calls `listener` with every event from now on; returns the function that unsubscribes it. */
  on(listener: (e: JobEvent) => void): () => void
  /** The events from now on; the iteration ends after the job's final status. */
  events(): AsyncIterable<JobEvent>
  checkpoint(): Promise<CheckpointStats>
  /** A savepoint in `target` (a folder that must not exist yet); with `stop`, the job then stops gracefully. */
  savepoint(target: string, opts?: { stop?: boolean }): Promise<CheckpointStats>
  /** Stops gracefully and resolves with the run's summary. */
  stop(): Promise<RunSummary>
  /** Stops at once: no final checkpoint, sinks do not commit; resolves once the job has ended. */
  cancel(): Promise<void>
  /** Resolves with the summary when the job finishes or stops; rejects when it fails or is cancelled before it ends. */
  readonly done: Promise<RunSummary>
  /** The time between periodic checkpoints in ms while the job runs with checkpoints (0: only at the end and on stop); undefined otherwise. */
  checkpointInterval(): number | undefined
  /**
   * Changes the time between periodic checkpoints while the job runs: the next one is due `ms` from now
   * (0: none until the end or a stop). Throws when the job runs without checkpoints or has ended.
   * @example job.setCheckpointInterval(30_000)
   */
  setCheckpointInterval(ms: number): void
  /** Read-only views into the running job (dead-letter log, late samples, watermarks, windows), for the control plane. */
  inspect(): JobInspector
}

/**
 * What the control plane may read of a running job beyond its metrics. Views cover the subtasks of every thread:
 * the main thread's read at the call, the others' as they last reported (about once a second); every call
 * answers empty or undefined before the job runs and after it ends.
 * @example
 * const dl = job.inspect().deadLetters() // the open dead-letter log, while the job writes to it
 * const why = await job.inspect().window('per-region', 'eu', Date.now())
 */
export interface JobInspector {
  /** The job's dead-letter log (open, its lock held by the job) and topic, while the job runs with onError 'dead-letter'. */
  deadLetters(): { log: Log; topic: string } | undefined
  /** Per step that diverted late records: how many, and a uniform sample of them (at most 16). */
  lateSamples(): { step: string; seen: number; samples: LateSample[] }[]
  /** Per source: each partition's watermark, and whether it is idle or ended. */
  sources(): { step: string; partitions: { partition: number; watermark: number; idle: boolean; ended: boolean; lastDataAt: number }[] }[]
  /** Per vertex (named by its first step; `steps`: the steps fused in it): its watermark and each input's watermark and idleness (the minimum of the active inputs holds it). */
  watermarks(): { step: string; steps: string[]; watermark: number; inputs: { from: string; watermark: number; idle: boolean }[] }[]
  /** The window step `step`'s view of `key` at event time `time` (from the thread that holds the key); undefined when the step is not a window step. */
  window(step: string, key: string, time: number): Promise<WindowInspection | undefined>
}

/** An inspector that sees nothing: before the runner sets its own, and after the job ended. */
export const emptyInspector: JobInspector = {
  deadLetters: () => undefined,
  lateSamples: () => [],
  sources: () => [],
  watermarks: () => [],
  window: async () => undefined,
}

/**
 * A request waiting for the runner, which takes it between batches (`JobControl.next()`) and settles it:
 * `resolve(stats)` once a checkpoint or savepoint is complete, `resolve()` once a stop is under way.
 */
export interface Command {
  kind: 'checkpoint' | 'savepoint' | 'stop' | 'cancel'
  /** The savepoint's folder. */
  target?: string
  /** A savepoint after which the job stops. */
  stop?: boolean
  resolve(stats?: CheckpointStats): void
  reject(e: unknown): void
}

/** A way to reach a job from outside (files in its checkpoint folder, the HTTP API): an adapter over its handle. */
export interface ControlChannel {
  /** Stops listening; resolves once a request being answered has been answered. */
  close(): Promise<void>
}
