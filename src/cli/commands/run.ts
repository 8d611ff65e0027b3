import { readPolicyFile } from '../../retention/load.ts'
import { logDrop } from '../../retention/apply.ts'
import { DEFAULT_RETENTION_LOG } from '../../retention/periodic.ts'
import type { StateOptions } from '../../core/state-options.ts'
import { parseByteSize } from '../../core/byte-size.ts'
import { start } from '../../runtime/run.ts'
import { serveControlPlane } from '../../server/serve.ts'
import { jobInfoOf } from '../../server/job-info.ts'
import { portFlag } from './serve.ts'
import { formatSummary } from '../../runtime/summary.ts'
import { formatSinkGuarantees, sinkGuarantees } from '../../api/sink-guarantees.ts'
import type { RunOptions, RunSummary } from '../../runtime/run-types.ts'
import type { ParentRun } from '../../lineage/openlineage.ts'
import type { Command, ParsedArgs } from '../command.ts'
import { paramsFlag, positiveIntFlag, UsageError } from '../command.ts'
import { resolve } from 'node:path'
import { parseDuration } from '../../core/duration.ts'
import { errorMessage } from '../../core/errors.ts'
import type { CheckpointConfig } from '../../checkpoint/coordinator.ts'
import { CheckpointStorage } from '../../checkpoint/storage.ts'
import { exitCode, exitCodesHelp } from '../exit-codes.ts'
import { loadPipeline, resolvePipelineFile } from '../load-pipeline.ts'
import { requireTypes } from '../type-check/require-types.ts'
import { ProgressLine } from '../progress-line.ts'
import { metricsPortFlags, serveJobMetrics } from '../metrics-port.ts'
import { logRun, runLogger } from '../run-logging.ts'
import { traceJob } from '../../runtime/job/job-tracer.ts'
import type { JobHandle } from '../../runtime/job/types.ts'
import { isS3Url } from '../../checkpoint/s3-location.ts'

export const runCommand: Command = {
  name: 'run',
  summary: 'run a pipeline until its input ends or it is stopped',
  usage: 'sluice run <pipeline.ts> [flags]',
  description: [
    'Runs the pipeline that the module default-exports: a Pipeline, a Stream, or a function',
    '({ params }) => Pipeline | Stream that receives the --param values. The path is relative to the',
    'current folder. A bounded input makes a batch job that ends; an unbounded one runs until Ctrl-C',
    '(once: stop gracefully, sinks flush; twice: exit at once).',
    '',
    'The pipeline is type-checked first, as by `sluice check` (skipped while its files are unchanged',
    'since a check that passed; --no-check skips it always).',
    '',
    'On a terminal a progress line (records in, records/s, percent done and ETA of bounded files,',
    'watermark, lag behind the clock or on historical data the event time covered and its speed; a',
    'resumed run shows what it read in this run and in total) is redrawn about once a second on stderr.',
    'The summary goes to stderr, so stdout carries only what sink.console() prints.',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the pipeline file (sluice run <pipeline.ts>)' },
  flags: [
    { name: 'parallelism', short: 'p', type: 'string', placeholder: 'N', description: 'subtasks per keyed step (default 1)' },
    { name: 'param', type: 'string', multiple: true, placeholder: 'key=value', description: 'a parameter for a pipeline factory' },
    { name: 'batch-size', type: 'string', placeholder: 'N', description: "records per batch read from sources (default: the pipeline's, 1024)" },
    { name: 'state', type: 'string', placeholder: 'BACKEND', description: "where keyed state lives: 'heap' (default, fastest) or 'durable' (an embedded store on disk, for state larger than memory)" },
    { name: 'state-dir', type: 'string', placeholder: 'DIR', description: 'with --state durable: keep the stores in DIR (default: a temporary folder)' },
    { name: 'state-cache', type: 'string', placeholder: 'SIZE', description: "with --state durable: the most each step's write-back cache holds, counted in its entries' stored bytes, e.g. '64MB' (default 1/64 of the heap limit)" },
    { name: 'state-memory', type: 'string', placeholder: 'SIZE', description: "with the heap backend: how much of the heap keyed state may take per thread, e.g. '512MB' (default 60% of the heap limit); past it the job fails with SLUICE_STATE_MEMORY instead of running out of memory" },
    { name: 'no-check', type: 'boolean', description: 'run without type-checking the pipeline first (see sluice check)' },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'no progress line and no summary (errors are still printed)' },
    { name: 'json', type: 'boolean', description: 'print the run summary as one JSON line on stdout instead of the table' },
    { name: 'checkpoint-dir', type: 'string', placeholder: 'DIR', description: 'take checkpoints in DIR (a folder, or s3://bucket/prefix); starting again with the same DIR resumes from the latest one' },
    { name: 'checkpoint-interval', type: 'string', placeholder: 'DURATION', description: "time between checkpoints, e.g. '10s' (default 10s; 0: only at the end and on stop)" },
    { name: 'full-checkpoints', type: 'boolean', description: 'every checkpoint writes all state (default: after a full one, regular joins and keyed aggregates, and on the durable store windows and window and interval joins, write only the keys changed since)' },
    { name: 'restore-from', type: 'string', placeholder: 'DIR', description: 'resume from this savepoint or checkpoint folder (or s3://bucket/prefix) instead of the latest checkpoint' },
    { name: 'serve', type: 'string', placeholder: 'PORT', description: 'also serve the control plane on 127.0.0.1:PORT (see sluice serve; state in .sluice/server)' },
    { name: 'allow-dropped-state', type: 'boolean', description: 'restore even if saved state of some step no longer matches the pipeline (that state is dropped)' },
    { name: 'metrics-port', type: 'string', placeholder: 'PORT', description: 'serve /metrics (Prometheus), /healthz and /readyz on this port while the job runs' },
    { name: 'log', type: 'string', placeholder: 'FORMAT', description: "structured logs on stderr instead of the progress line and summary table: 'json' lines, or 'pretty' for a terminal" },
    { name: 'log-level', type: 'string', placeholder: 'LEVEL', description: "with --log: trace, debug, info (default), warn, error" },
    { name: 'otlp-endpoint', type: 'string', placeholder: 'URL', description: 'send traces (the job, checkpoints, restores, sampled batches per step; a traceparent header on input is followed) to this OpenTelemetry collector over OTLP/HTTP, e.g. http://127.0.0.1:4318' },
    { name: 'lineage', type: 'string', placeholder: 'TARGET', description: "emit OpenLineage run events to an NDJSON file, a Marquez endpoint (http://host:5000) or 'console' (default: the pipeline's lineage option, then SLUICE_LINEAGE)" },
    { name: 'retention', type: 'string', placeholder: 'POLICY', description: "a retention policy file (YAML or JSON): a lineage file named by its 'logs' is written in segments and its old segments dropped while the job runs" },
    { name: 'registry', type: 'string', placeholder: 'DIR|URL', description: "register the contracts' new compatible versions in this schema registry before the run, and refuse an incompatible one (default: the pipeline's registry option, then SLUICE_REGISTRY)" },
    { name: 'drain-timeout', type: 'string', placeholder: 'DURATION', description: "after SIGTERM or Ctrl-C, cancel the job and exit if the graceful stop takes longer than this, e.g. '50s' (default: wait)" },
    { name: 'metrics-host', type: 'string', placeholder: 'ADDRESS', description: "the address the metrics server listens on (default 127.0.0.1; '0.0.0.0' in a container)" },
    { name: 'accept-duplicates', type: 'boolean', description: 'when the newest checkpoints are damaged, fall back (or start from scratch) even if a log sink or the dead-letter log then gets output twice (default: refuse)' },
  ],
  examples: ['sluice run examples/quickstart/pipeline.ts', 'sluice run examples/monitored-orders/pipeline.ts --metrics-port 9464', 'sluice run pipelines/clicks.ts --checkpoint-dir state/clicks --checkpoint-interval 10s', 'sluice run pipelines/copy.ts --param input=in.jsonl --param output=out.jsonl --json', 'sluice run pipelines/sessions.ts --state durable --state-dir /var/lib/sluice/state'],
  notes: exitCodesHelp,

  async run({ values, positionals }, ctx) {
    const parallelism = positiveIntFlag(values, 'parallelism', 'run')
    const batchSize = positiveIntFlag(values, 'batch-size', 'run')
    const params = paramsFlag(values, 'run')
    const quiet = values.quiet === true
    const json = values.json === true
    const file = positionals[0]
    const checkpoint = checkpointFlags(values)
    const metrics = metricsPortFlags(values)
    const drainMs = drainTimeoutFlag(values)
    const state = stateFlags(values)

    if (values['no-check'] !== true) await requireTypes(resolvePipelineFile(file, ctx.cwd), file, ctx)
    const loaded = await loadPipeline(file, params, ctx.cwd)
    const p = loaded.pipeline
    const lineageMaxAge = await lineageRetention(values, p.options.lineage, ctx.cwd)
    if (!loaded.factory && Object.keys(params).length > 0) {
      ctx.stderr.write(`warning: '${file}' does not export a function, so the --param values are not used\n`)
    }
    if (batchSize !== undefined) p.options.batchSize = batchSize
    if (state !== undefined) p.options.state = { ...p.options.state, ...state }

    const log = runLogger(values, p, ctx)
    // A console sink writing to the same terminal would tear the progress line apart; so would log lines.
    const printsToTerminal = ctx.stdout.isTTY === true && p.nodes.some((n) => n.kind === 'sink-console')
    const progress = new ProgressLine(ctx.stderr, ctx.stderr.isTTY === true && !quiet && !printsToTerminal && log === undefined)

    const stop = new AbortController()
    let job: JobHandle | undefined
    /** Set once the drain timeout cancelled the job: the process is on its way out with its own message. */
    let leaving: Promise<never> | undefined
    let signals = 0
    let stoppedBy: NodeJS.Signals | undefined
    const onSignal = (sig: NodeJS.Signals) => {
      signals++
      stoppedBy ??= sig
      progress.clear()
      if (signals === 1) {
        ctx.stderr.write('stopping… (press Ctrl-C again to force)\n')
        stop.abort()
        // A drain that outlasts its deadline cancels the job (in-flight work abandoned, nothing committed) and
        // exits with the signal's code: before an orchestrator's SIGKILL.
        if (drainMs !== undefined) {
          setTimeout(() => {
            const exit = (): Promise<never> =>
              (leaving ??= unfinishedRun(checkpoint?.dir).then((left) => {
                ctx.stderr.write(`forced exit: the drain took longer than --drain-timeout; ${left}\n`)
                return process.exit(signalExitCode(sig))
              }))
            // A job that does not end (a sink that never closes) is not waited for long.
            setTimeout(() => void exit(), CANCEL_GRACE_MS).unref()
            if (job === undefined) void exit()
            else job.cancel().then(exit, exit)
          }, drainMs).unref()
        }
        return
      }
      ctx.stderr.write('forced exit: sinks may not have written everything\n')
      process.exit(signalExitCode(sig))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    let summary: RunSummary
    // The metrics server answers before the job starts (its /readyz says so), and a port in use stops the run
    // before it reads anything.
    const server = metrics !== undefined ? await serveJobMetrics(p, metrics) : undefined
    if (server !== undefined && log !== undefined) log.info({ url: `${server.url}/metrics` }, 'serving metrics')
    else if (server !== undefined && !quiet) ctx.stderr.write(`metrics on ${server.url}/metrics (probes /healthz, /readyz)\n`)
    let logged: Promise<void> | undefined
    let traced: { flush(): Promise<void> } | undefined
    const otlp = values['otlp-endpoint']
    let exportWarned = false
    const warnExport = (): void => {
      if (!exportWarned) ctx.stderr.write(`warning: traces could not be sent to ${String(otlp)}; the job goes on\n`)
      exportWarned = true
    }
    let lineageWarned = false
    try {
      job = start(p, {
        module: loaded.url,
        params,
        ...(parallelism !== undefined ? { parallelism } : {}),
        ...(checkpoint !== undefined ? { checkpoint } : {}),
        ...(typeof values.registry === 'string' ? { registry: /^https?:\/\//.test(values.registry) ? values.registry : resolve(ctx.cwd, values.registry) } : {}),
        signal: stop.signal,
        onProgress: (pr) => progress.update(pr),
        ...(typeof otlp === 'string' ? { trace: { endpoint: otlp, onExportError: () => warnExport() } } : {}),
        lineage: lineageFlag(values, lineageMaxAge, () => {
          if (!lineageWarned) ctx.stderr.write('warning: lineage events could not be sent; the job goes on\n')
          lineageWarned = true
        }),
      })
      server?.serve(job)
      if (log !== undefined) logged = logRun(job, log)
      if (typeof otlp === 'string') {
        traced = traceJob(job, {
          endpoint: otlp,
          onExportError: () => warnExport(),
        })
      }
      if (typeof values.serve === 'string') {
        const plane = await serveControlPlane({ jobs: new Map([[p.name, job]]), infos: new Map([[p.name, jobInfoOf(p)]]), ...(checkpoint !== undefined && typeof checkpoint.dir === 'string' ? { checkpointDirs: new Map([[p.name, checkpoint.dir]]) } : {}), stateDir: resolve(ctx.cwd, '.sluice/server'), port: portFlag(values, 'serve', 'run') })
        ctx.stderr.write(`control plane on ${plane.url}\n`)
        try {
          summary = await job.done
        } finally {
          await plane.close()
        }
      } else summary = await job.done
    } catch (e) {
      // Cancelled at the drain timeout: the exit says why, not the cancellation's error.
      if (leaving !== undefined) await leaving
      throw e
    } finally {
      progress.clear()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      await logged
      await traced?.flush()
      await server?.close()
    }
    if (json) ctx.stdout.write(summaryJson(summary) + '\n')
    else if (!quiet && log === undefined) ctx.stderr.write(`${formatSummary(summary)}\n${formatSinkGuarantees(sinkGuarantees(p, { checkpointing: checkpoint !== undefined }))}\n`)
    // Stopped by a signal, the process says so as a shell expects, however it was started (npx itself
    // ends with SIGINT on Ctrl-C): scripts must not take an interrupted run for a finished one.
    return stoppedBy !== undefined ? signalExitCode(stoppedBy) : exitCode.ok
  },
}

/** Runs the job with the control plane served beside it until the job ends. */
function signalExitCode(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? exitCode.terminated : exitCode.interrupted
}

/** After the drain timeout: how long the cancelled job may take to close before the process exits anyway. */
const CANCEL_GRACE_MS = 3000

/** What a run cancelled at its drain timeout leaves: where a restart resumes (the newest checkpoint in `dir`), or that the output is partial. */
export async function unfinishedRun(dir: string | undefined): Promise<string> {
  if (dir === undefined) return 'the run stopped without checkpoints: its output is partial'
  const newest = (await new CheckpointStorage(dir).ids().catch(() => []))[0]
  if (newest === undefined) return 'the run stopped before its first checkpoint: a restart with the same --checkpoint-dir starts from the beginning'
  return `the run stopped without a final checkpoint: a restart with the same --checkpoint-dir resumes from checkpoint ${newest}`
}

/**
 * The lineage options of a run: `--lineage` (else the pipeline's option or SLUICE_LINEAGE), with the parent
 * run a workflow's shell task passes in SLUICE_LINEAGE_PARENT.
 */
function lineageFlag(values: ParsedArgs['values'], maxAgeMs: number | undefined, onError: () => void): RunOptions['lineage'] {
  const target = values.lineage
  let parent: ParentRun | undefined
  try {
    const p = JSON.parse(process.env.SLUICE_LINEAGE_PARENT ?? 'null') as ParentRun | null
    if (p !== null && typeof p.runId === 'string' && typeof p.job?.name === 'string') parent = p
  } catch {
    parent = undefined
  }
  return { ...(typeof target === 'string' ? { transport: target } : {}), ...(parent !== undefined ? { parent } : {}), ...(maxAgeMs !== undefined ? { file: { maxAge: maxAgeMs, onDrop: (d: { path: string; bytes: number }) => logDrop(resolve(DEFAULT_RETENTION_LOG), d, maxAgeMs) } } : {}), onError }
}

/** The max age `--retention`'s `logs` give the run's lineage file (`--lineage`, else the pipeline's, else SLUICE_LINEAGE), if any. */
async function lineageRetention(values: ParsedArgs['values'], own: string | { transport: string } | undefined, cwd: string): Promise<number | undefined> {
  if (typeof values.retention !== 'string') return undefined
  const policy = await readPolicyFile(resolve(cwd, values.retention), values.retention)
  const target = typeof values.lineage === 'string' ? values.lineage : ((typeof own === 'string' ? own : own?.transport) ?? process.env.SLUICE_LINEAGE)
  if (target === undefined || target === '' || target === 'console' || /^https?:\/\//i.test(target)) return undefined
  return policy.logs.find((l) => resolve(cwd, l.path) === resolve(cwd, target))?.maxAgeMs
}

/** `--drain-timeout` in ms, or undefined. */
function drainTimeoutFlag(values: ParsedArgs['values']): number | undefined {
  const raw = values['drain-timeout']
  if (typeof raw !== 'string') return undefined
  try {
    return parseDuration(raw, '--drain-timeout')
  } catch (e) {
    throw new UsageError(errorMessage(e), 'run')
  }
}

/** The state backend from --state, --state-dir, --state-cache and --state-memory; undefined when none is given. */
function stateFlags(values: ParsedArgs['values']): StateOptions | undefined {
  const backend = values.state
  const dir = values['state-dir']
  const cache = values['state-cache']
  const memory = values['state-memory']
  if (backend === undefined && dir === undefined && cache === undefined && memory === undefined) return undefined
  if (backend !== undefined && backend !== 'heap' && backend !== 'durable') throw new UsageError(`--state must be 'heap' or 'durable', got '${String(backend)}'`, 'run')
  if (typeof dir === 'string' && backend !== 'durable') throw new UsageError('--state-dir needs --state durable', 'run')
  if (cache !== undefined && backend !== 'durable') throw new UsageError('--state-cache is the cache of the durable store: it needs --state durable', 'run')
  if (memory !== undefined && backend === 'durable') throw new UsageError('--state-memory is the budget of the heap backend; --state durable keeps state on disk', 'run')
  sizeFlag(cache, '--state-cache')
  sizeFlag(memory, '--state-memory')
  return {
    ...(backend !== undefined ? { backend } : {}),
    ...(typeof dir === 'string' ? { dir: resolve(dir) } : {}),
    ...(typeof cache === 'string' ? { cacheBytes: cache } : {}),
    ...(typeof memory === 'string' ? { memoryBudget: memory } : {}),
  }
}

/** Checks a size flag's value (undefined when not given), naming the flag when it is not a size. */
function sizeFlag(value: unknown, flag: string): void {
  if (value === undefined) return
  try {
    parseByteSize(String(value), flag)
  } catch {
    throw new UsageError(`${flag} must be a size such as '512MB' or '2GB', got '${String(value)}'`, 'run')
  }
}

/** Checkpoint settings from the flags; undefined without --checkpoint-dir. */
function checkpointFlags(values: ParsedArgs['values']): CheckpointConfig | undefined {
  const dir = values['checkpoint-dir']
  const others = ['checkpoint-interval', 'full-checkpoints', 'restore-from', 'allow-dropped-state', 'accept-duplicates'].filter((f) => values[f] !== undefined)
  if (typeof dir !== 'string') {
    if (others.length > 0) throw new UsageError(`--${others[0]} needs --checkpoint-dir`, 'run')
    return undefined
  }
  let intervalMs = 10_000
  if (typeof values['checkpoint-interval'] === 'string') {
    try {
      intervalMs = parseDuration(values['checkpoint-interval'], '--checkpoint-interval')
    } catch (e) {
      throw new UsageError(errorMessage(e), 'run')
    }
  }
  return {
    dir: isS3Url(dir) ? dir : resolve(dir),
    intervalMs,
    ...(typeof values['restore-from'] === 'string' ? { restoreFrom: isS3Url(values['restore-from']) ? values['restore-from'] : resolve(values['restore-from']) } : {}),
    allowDroppedState: values['allow-dropped-state'] === true,
    acceptDuplicates: values['accept-duplicates'] === true,
    incremental: values['full-checkpoints'] !== true,
  }
}

/** The summary as JSON; an infinite watermark (all input done, or none yet) is written as '+inf' / '-inf'. */
export function summaryJson(s: RunSummary): string {
  return JSON.stringify(s, (k, v) => (k === 'watermark' && typeof v === 'number' && !Number.isFinite(v) ? (v > 0 ? '+inf' : '-inf') : v))
}
