import { run, start } from '../../runtime/run.ts'
import type { Pipeline } from '../../api/pipeline.ts'
import type { Progress, RunOptions } from '../../runtime/run-types.ts'
import type { CliContext } from '../command.ts'
import { serveControlPlane } from '../../server/serve.ts'
import { graphOf } from '../../server/graph.ts'
import { portFlag } from './serve.ts'
import { formatSummary } from '../../runtime/summary.ts'
import { formatSinkGuarantees, sinkGuarantees } from '../../api/sink-guarantees.ts'
import type { RunSummary } from '../../runtime/run-types.ts'
import type { Command, ParsedArgs } from '../command.ts'
import { paramsFlag, positiveIntFlag, UsageError } from '../command.ts'
import { resolve } from 'node:path'
import { parseDuration } from '../../core/duration.ts'
import { errorMessage } from '../../core/errors.ts'
import type { CheckpointConfig } from '../../checkpoint/coordinator.ts'
import { exitCode, exitCodesHelp } from '../exit-codes.ts'
import { loadPipeline, resolvePipelineFile } from '../load-pipeline.ts'
import { requireTypes } from '../type-check/require-types.ts'
import { ProgressLine } from '../progress-line.ts'

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
    'On a terminal a progress line (records in, records/s, watermark, lag behind the clock, or on',
    'historical data the event time covered and its speed) is redrawn about once a second on stderr.',
    'The summary goes to stderr, so stdout carries only what sink.console() prints.',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the pipeline file (sluice run <pipeline.ts>)' },
  flags: [
    { name: 'parallelism', short: 'p', type: 'string', placeholder: 'N', description: 'subtasks per keyed step (default 1)' },
    { name: 'param', type: 'string', multiple: true, placeholder: 'key=value', description: 'a parameter for a pipeline factory' },
    { name: 'batch-size', type: 'string', placeholder: 'N', description: "records per batch read from sources (default: the pipeline's, 1024)" },
    { name: 'no-check', type: 'boolean', description: 'run without type-checking the pipeline first (see sluice check)' },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'no progress line and no summary (errors are still printed)' },
    { name: 'json', type: 'boolean', description: 'print the run summary as one JSON line on stdout instead of the table' },
    { name: 'checkpoint-dir', type: 'string', placeholder: 'DIR', description: 'take checkpoints in DIR; starting again with the same DIR resumes from the latest one' },
    { name: 'checkpoint-interval', type: 'string', placeholder: 'DURATION', description: "time between checkpoints, e.g. '10s' (default 10s; 0: only at the end and on stop)" },
    { name: 'full-checkpoints', type: 'boolean', description: 'every checkpoint writes all state (default: after a full one, joins and keyed aggregates write only the keys changed since)' },
    { name: 'restore-from', type: 'string', placeholder: 'DIR', description: 'resume from this savepoint or checkpoint folder instead of the latest checkpoint' },
    { name: 'serve', type: 'string', placeholder: 'PORT', description: 'also serve the control plane on 127.0.0.1:PORT (see sluice serve; state in .sluice/server)' },
    { name: 'allow-dropped-state', type: 'boolean', description: 'restore even if saved state of some step no longer matches the pipeline (that state is dropped)' },
  ],
  examples: ['sluice run examples/quickstart/pipeline.ts', 'sluice run pipelines/clicks.ts --checkpoint-dir state/clicks --checkpoint-interval 10s', 'sluice run pipelines/copy.ts --param input=in.jsonl --param output=out.jsonl --json'],
  notes: exitCodesHelp,

  async run({ values, positionals }, ctx) {
    const parallelism = positiveIntFlag(values, 'parallelism', 'run')
    const batchSize = positiveIntFlag(values, 'batch-size', 'run')
    const params = paramsFlag(values, 'run')
    const quiet = values.quiet === true
    const json = values.json === true
    const file = positionals[0]
    const checkpoint = checkpointFlags(values)

    if (values['no-check'] !== true) await requireTypes(resolvePipelineFile(file, ctx.cwd), file, ctx)
    const loaded = await loadPipeline(file, params, ctx.cwd)
    const p = loaded.pipeline
    if (!loaded.factory && Object.keys(params).length > 0) {
      ctx.stderr.write(`warning: '${file}' does not export a function, so the --param values are not used\n`)
    }
    if (batchSize !== undefined) p.options.batchSize = batchSize

    // A console sink writing to the same terminal would tear the progress line apart.
    const printsToTerminal = ctx.stdout.isTTY === true && p.nodes.some((n) => n.kind === 'sink-console')
    const progress = new ProgressLine(ctx.stderr, ctx.stderr.isTTY === true && !quiet && !printsToTerminal)

    const stop = new AbortController()
    let signals = 0
    let stoppedBy: NodeJS.Signals | undefined
    const onSignal = (sig: NodeJS.Signals) => {
      signals++
      stoppedBy ??= sig
      progress.clear()
      if (signals === 1) {
        ctx.stderr.write('stopping… (press Ctrl-C again to force)\n')
        stop.abort()
        return
      }
      ctx.stderr.write('forced exit: sinks may not have written everything\n')
      process.exit(signalExitCode(sig))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    let summary: RunSummary
    try {
      const runOpts = {
        module: loaded.url,
        params,
        ...(parallelism !== undefined ? { parallelism } : {}),
        ...(checkpoint !== undefined ? { checkpoint } : {}),
        signal: stop.signal,
        onProgress: (pr: Progress) => progress.update(pr),
      }
      summary = typeof values.serve === 'string' ? await runServed(p, runOpts, portFlag(values, 'serve', 'run'), ctx) : await run(p, runOpts)
    } finally {
      progress.clear()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    if (json) ctx.stdout.write(summaryJson(summary) + '\n')
    else if (!quiet) ctx.stderr.write(`${formatSummary(summary)}\n${formatSinkGuarantees(sinkGuarantees(p, { checkpointing: checkpoint !== undefined }))}\n`)
    // Stopped by a signal, the process says so as a shell expects, however it was started (npx itself
    // ends with SIGINT on Ctrl-C): scripts must not take an interrupted run for a finished one.
    return stoppedBy !== undefined ? signalExitCode(stoppedBy) : exitCode.ok
  },
}

/** Runs the job with the control plane served beside it until the job ends. */
async function runServed(p: Pipeline, opts: RunOptions, port: number, ctx: CliContext): Promise<RunSummary> {
  const job = start(p, opts)
  const server = await serveControlPlane({ jobs: new Map([[p.name, job]]), graphs: new Map([[p.name, graphOf(p.nodes)]]), stateDir: resolve(ctx.cwd, '.sluice/server'), port })
  ctx.stderr.write(`control plane on ${server.url}\n`)
  try {
    return await job.done
  } finally {
    await server.close()
  }
}

function signalExitCode(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? exitCode.terminated : exitCode.interrupted
}

/** Checkpoint settings from the flags; undefined without --checkpoint-dir. */
function checkpointFlags(values: ParsedArgs['values']): CheckpointConfig | undefined {
  const dir = values['checkpoint-dir']
  const others = ['checkpoint-interval', 'full-checkpoints', 'restore-from', 'allow-dropped-state'].filter((f) => values[f] !== undefined)
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
    dir: resolve(dir),
    intervalMs,
    ...(typeof values['restore-from'] === 'string' ? { restoreFrom: resolve(values['restore-from']) } : {}),
    allowDroppedState: values['allow-dropped-state'] === true,
    incremental: values['full-checkpoints'] !== true,
  }
}

/** The summary as JSON; an infinite watermark (all input done, or none yet) is written as '+inf' / '-inf'. */
export function summaryJson(s: RunSummary): string {
  return JSON.stringify(s, (k, v) => (k === 'watermark' && typeof v === 'number' && !Number.isFinite(v) ? (v > 0 ? '+inf' : '-inf') : v))
}
