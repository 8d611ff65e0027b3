import type { StateOptions } from '../core/state-options.ts'
import type { KeyCount } from '../core/metrics.ts'
import type { Clock } from '../core/clock.ts'
import type { InputProgress, StepMetricsJson } from '../core/metrics.ts'
import type { CheckpointConfig, CheckpointReport } from '../checkpoint/coordinator.ts'
import type { LineageOptions } from '../lineage/emitter.ts'
import type { LineageTransport } from '../lineage/transport.ts'
import type { StepTraceOptions } from '../observe/trace/step-spans.ts'

/**
 * How `run` runs a pipeline: parallelism, checkpoints, `--param` values, a signal to stop it, and a
 * progress callback.
 * @example await run(p, { parallelism: 4, checkpoint: { dir: 'state/orders', intervalMs: 10_000 } })
 */
export interface RunOptions {
  /** Subtasks per keyed step; above 1 they run on worker threads (needs `module`). Default 1. */
  parallelism?: number
  /** The pipeline module's path or URL; worker threads load the pipeline from it. */
  module?: string
  /** Parameters for a pipeline module whose default export is a factory (`sluice run --param k=v`); workers pass them to it. */
  params?: Record<string, string>
  /** Processing-time clock; tests pass a ManualClock. */
  clock?: Clock
  /** Aborting stops the job gracefully: sources stop, sinks flush, windows are not forced. */
  signal?: AbortSignal
  /** Called about once per `progressIntervalMs` while running. */
  onProgress?: (p: Progress) => void
  progressIntervalMs?: number
  /** Periodic checkpoints, and resuming from the latest one in the same folder. */
  checkpoint?: CheckpointConfig
  /**
   * Where keyed state lives in this run, over the pipeline's `state` option: the backend, and for the heap its
   * memory budget per thread (default 60% of the heap limit; past it the job fails with SLUICE_STATE_MEMORY).
   * @example await run(p, { state: { backend: 'heap', memoryBudget: '512MB' } })
   */
  state?: StateOptions
  /**
   * OpenLineage run events (START, RUNNING, COMPLETE, FAIL, ABORT) to a file, an HTTP endpoint or the console;
   * a target alone, or options. The target defaults to the pipeline's `lineage` option, then the
   * `SLUICE_LINEAGE` environment variable; without any, no events are emitted.
   */
  lineage?: string | (Omit<LineageOptions, 'transport'> & { transport?: string | LineageTransport })
  /**
   * A schema registry (folder or URL) to register the contracts' new compatible versions in before the run
   * starts; an incompatible one stops the start. Defaults to the pipeline's `registry` option, then `SLUICE_REGISTRY`.
   */
  registry?: string
  /**
   * Spans of sampled batches per step, exported over OTLP/HTTP: a batch read with a W3C `traceparent` header
   * (Kafka, the log, HTTP ingest) is traced under it, and sinks with headers write the context on.
   */
  trace?: StepTraceOptions & { onExportError?: (e: unknown) => void }
}

/**
 * What `onProgress` receives about once a second: records in, rate, watermark, lag, elapsed time, and how
 * far bounded file sources have read.
 * @example await run(p, { onProgress: (pr) => console.error(pr.recordsIn, pr.watermark) })
 */
export interface Progress {
  /** Records the sources read, those of earlier runs included when resumed from a checkpoint. */
  recordsIn: number
  /** Records the sources read in this run. */
  recordsThisRun: number
  /** Records read per second in this run. */
  recordsPerSecond: number
  /** Minimum watermark over all sources (epoch ms), -Infinity before the first. */
  watermark: number
  /** Processing time minus watermark, in ms (how far event time trails the clock). */
  lagMs: number
  elapsedMs: number
  /** Bytes bounded file sources have read of their total; absent when no source can tell. */
  input?: InputProgress
  /** A sink whose write has not settled for `ms` (shown after 5 s; the job fails at its sinkWriteTimeout). */
  stuck?: { step: string; ms: number }
}

/**
 * What `run` resolves with: status, time, records in, per-step metrics (in, out, late, errors, dropped),
 * keyed state and checkpoints.
 * @example const s = await run(p); console.log(formatSummary(s))
 */
export interface RunSummary {
  pipeline: string
  status: 'finished' | 'stopped'
  parallelism: number
  wallMs: number
  cpuMs: number
  recordsIn: number
  watermark: number
  steps: StepMetricsJson[]
  late: number
  errors: number
  dropped: number
  /**
   * Keyed state at the end, per keyed step: keys the operator holds, entries of its state backend, and those
   * in states without a TTL (state that only grows unless the function clears it).
   */
  state?: { step: string; backend: string; keys: number; entries: number; entriesWithoutTtl: number }[]
  /** Checkpoints taken, failed and restored, when checkpointing. */
  checkpoints?: CheckpointReport
  /** What the run noticed that may make its output surprising (a watermark that jumped by more than a day). */
  warnings?: string[]
  /** The most frequent keys of each keyed step (space-saving sketch, at least `count - error` records each), most first. */
  hotKeys?: { step: string; records: number; keys: KeyCount[] }[]
}
