import type { Pipeline } from '../api/pipeline.ts'
import type { Stream } from '../api/stream.ts'
import type { LineageTransport } from '../lineage/transport.ts'
import type { RetryPolicy } from './retry.ts'

/**
 * What a task run knows: its workflow, task, partition (key and bounds), attempt, and a signal for timeouts and cancels.
 * @example fnTask(async ({ partition, attempt, signal }) => { await fetch(`https://api.example/refresh/${partition}?try=${attempt}`, { method: 'POST', signal }) })
 */
export interface TaskContext {
  workflow: string
  task: string
  partition: string
  /** The partition's values as `--param`-style strings: `partition`, and for time partitions `start` and `end` (ISO). */
  params: Record<string, string>
  /** 1 for the first attempt. */
  attempt: number
  signal: AbortSignal
  /** The scheduler's time (virtual in tests). */
  now(): number
  /** Waits `ms` on the scheduler's clock; ends early when the run is aborted. */
  sleep(ms: number): Promise<void>
  /** The status of a run in the scheduler's store (another workflow's too): what sensors look at. */
  runStatus(workflow: string, task: string, partition: string): string | undefined
  /** Where the scheduler sends lineage (pipeline tasks send theirs there too); undefined when it sends none. */
  lineage?: string | LineageTransport
  /**
   * Notes the process group an attempt started (a shell task's command runs in a group of its own): should the
   * scheduler die, the next one stops that group before it runs the task again.
   */
  startedProcess?(pgid: number): void
}

/**
 * What a task does: run a Sluice pipeline, call a TypeScript function, or run a shell command.
 * @example
 * const action: TaskAction = shellTask('gzip -k "out/$SLUICE_PARTITION.jsonl"')
 * builder.task('compress', action, { dependsOn: ['export'] })
 */
export type TaskAction =
  | { kind: 'pipeline'; build: (args: { params: Record<string, string> }) => Pipeline | Stream<unknown> }
  | { kind: 'function'; fn: (ctx: TaskContext) => unknown }
  | { kind: 'shell'; command: string; cwd?: string }

/**
 * A task that runs a pipeline built from its partition's params: the same factory `sluice run --param` takes,
 * so a streaming pipeline rebuilds a partition's time range as a bounded run.
 * @example pipelineTask(({ params }) => pipeline('copy').from(source.jsonl(`in/${params.partition}.jsonl`)).to(sink.jsonl(`out/${params.partition}.jsonl`)))
 */
export function pipelineTask(build: (args: { params: Record<string, string> }) => Pipeline | Stream<unknown>): TaskAction {
  return { kind: 'pipeline', build }
}

/**
 * A task that calls a function; it fails if the function throws or rejects.
 * @example fnTask(async ({ partition }) => { if ((await stat(`out/${partition}.jsonl`)).size === 0) throw new Error('empty output') })
 */
export function fnTask(fn: (ctx: TaskContext) => unknown): TaskAction {
  return { kind: 'function', fn }
}

/**
 * A task that runs a shell command; it fails on a non-zero exit. The partition's params are in the environment
 * as `SLUICE_PARTITION`, `SLUICE_PARTITION_START` and `SLUICE_PARTITION_END`.
 * @example shellTask('gzip -k "out/$SLUICE_PARTITION.jsonl"')
 */
export function shellTask(command: string, opts: { cwd?: string } = {}): TaskAction {
  return { kind: 'shell', command, ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}) }
}

/**
 * A task's options: its upstream tasks, retries, timeout, concurrency limit and priority (higher first).
 * @example builder.task('aggregate', shellTask('./aggregate.sh'), { dependsOn: ['ingest'], retry: { retries: 3 }, timeoutMs: 600_000, priority: 10, slaMs: 3_600_000 })
 */
export interface TaskOptions {
  dependsOn?: string[]
  retry?: Partial<RetryPolicy>
  timeoutMs?: number
  /** At most this many runs of this task at once. */
  concurrency?: number
  priority?: number
  /** The run should succeed within this many ms of being queued; past it a `sla-missed` event is raised (once). */
  slaMs?: number
}

/**
 * A task of a built workflow, with the defaults of its options filled in.
 * @example const ingest: TaskSpec = wf.task('ingest')
 */
export interface TaskSpec {
  readonly name: string
  readonly action: TaskAction
  readonly dependsOn: readonly string[]
  readonly retry: RetryPolicy
  readonly timeoutMs: number | undefined
  readonly concurrency: number
  readonly priority: number
  readonly slaMs: number | undefined
}
