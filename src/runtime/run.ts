import type { Pipeline } from '../api/pipeline.ts'
import { Stream } from '../api/stream.ts'
import { systemClock } from '../core/clock.ts'
import { DEFAULT_KEY_GROUPS } from '../core/key.ts'
import { userError } from '../core/errors.ts'
import { parseByteSize } from '../core/byte-size.ts'
import { checkCacheOptions } from '../core/state-options.ts'
import { MetricsRegistry } from '../observe/metrics/registry.ts'
import { runJob } from './executor/job-runner.ts'
import { ControlRequestChannel } from './job/control-channel.ts'
import { createJob } from './job/handle.ts'
import { emitLineage, type LineageOptions } from '../lineage/emitter.ts'
import type { PipelineColumns } from '../lineage/column-lineage.ts'
import type { JobHandle } from './job/types.ts'
import type { RunOptions, RunSummary } from './run-types.ts'

/**
 * Starts a pipeline and returns at once with a handle on the running job: its status, live metrics and events,
 * and the commands checkpoint, savepoint, stop and cancel. With checkpoints, requests left as files in the
 * checkpoint folder (`sluice savepoint`, `sluice stop`) reach the job through the same handle.
 * @example
 * const job = start(clicks, { checkpoint: { dir: 'state/clicks', intervalMs: 10_000 } })
 * job.on((e) => { if (e.type === 'checkpoint-completed') console.log(`checkpoint ${e.stats.id}`) })
 * await job.savepoint('savepoints/v1', { stop: true })
 * const summary = await job.done
 */
export function start(p: Pipeline | Stream<any>, opts: RunOptions = {}): JobHandle {
  return launch(p, opts).handle
}

/** Starts the job; `ended` resolves once it has ended and its file channel has written its last answer. */
function launch(p: Pipeline | Stream<any>, opts: RunOptions): { handle: JobHandle; ended: Promise<void> } {
  const pl = p instanceof Stream ? p.pipeline : p
  const parallelism = opts.parallelism ?? 1
  if (!Number.isInteger(parallelism) || parallelism < 1) throw userError('SLUICE_BAD_OPTION', `parallelism must be a positive integer, got ${parallelism}`)
  if (parallelism > DEFAULT_KEY_GROUPS) throw userError('SLUICE_BAD_OPTION', `parallelism must be at most ${DEFAULT_KEY_GROUPS} (the number of key groups), got ${parallelism}`)
  if (opts.state?.backend !== undefined && opts.state.backend !== 'heap' && opts.state.backend !== 'durable') throw userError('SLUICE_BAD_OPTION', `state.backend must be 'heap' or 'durable', got '${String(opts.state.backend)}'`)
  if (opts.state?.memoryBudget !== undefined) parseByteSize(opts.state.memoryBudget, 'state.memoryBudget')
  if (opts.state !== undefined) checkCacheOptions(opts.state, 'state')
  const clock = opts.clock ?? systemClock
  const registry = new MetricsRegistry({ pipeline: pl.name, now: () => clock.now() })
  const { handle, control } = createJob(pl.name, registry)
  // Control requests (sluice stop, sluice savepoint) lie beside the checkpoints: files in a folder, objects in a bucket.
  const channel = opts.checkpoint !== undefined ? new ControlRequestChannel(handle, opts.checkpoint.dir) : undefined
  const lo = lineageOptions(pl, opts)
  const lineage = lo !== undefined ? emitLineage(handle, pl.nodes, lo) : undefined
  if (lineage !== undefined) control.notes.push(...lineageWarnings(lineage.columns))
  const ended = runJob(pl, { ...opts, parallelism }, control).then(() => channel?.close()).then(() => lineage?.flush())
  return { handle, ended }
}

/** What column lineage could not know, as the run summary's warnings. */
function lineageWarnings(c: PipelineColumns): string[] {
  return [
    ...c.opaque.map((step) => `lineage: step '${step}' could not be probed (its function throws on stand-in records, or is a process function); the columns after it are unknown: declare them with columns()`),
    ...c.warnings.map((w) => `lineage: ${w}`),
  ]
}

/**
 * The run's lineage options: `opts.lineage`, its target defaulting to the pipeline's `lineage` option, then
 * `SLUICE_LINEAGE`; the pipeline module is the source code location.
 */
function lineageOptions(pl: Pipeline, opts: RunOptions): LineageOptions | undefined {
  const given = typeof opts.lineage === 'string' ? { transport: opts.lineage } : (opts.lineage ?? {})
  const fromPipeline = typeof pl.options.lineage === 'string' ? { transport: pl.options.lineage } : pl.options.lineage
  const env = process.env.SLUICE_LINEAGE
  const transport = given.transport ?? fromPipeline?.transport ?? (env !== undefined && env !== '' ? env : undefined)
  if (transport === undefined) return undefined
  const o: LineageOptions = { ...fromPipeline, ...given, transport }
  if (o.source === undefined && opts.module !== undefined) o.source = opts.module
  return o
}

/**
 * Runs a pipeline to completion (bounded sources) or until `signal` aborts: `start` plus waiting for the end.
 * @example const summary = await run(p)
 */
export async function run(p: Pipeline | Stream<any>, opts: RunOptions = {}): Promise<RunSummary> {
  const { handle, ended } = launch(p, opts)
  try {
    return await handle.done
  } finally {
    await ended
  }
}
