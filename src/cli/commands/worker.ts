import { resolve } from 'node:path'
import { isS3Url } from '../../checkpoint/s3-location.ts'
import { parseDuration } from '../../core/duration.ts'
import { errorMessage } from '../../core/errors.ts'
import { checkWorkerOptions, runKafkaWorker } from '../../runtime/kafka-runner/worker.ts'
import { formatSummary } from '../../runtime/summary.ts'
import type { Command, ParsedArgs } from '../command.ts'
import { paramsFlag, positiveIntFlag, UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { resolvePipelineFile } from '../load-pipeline.ts'

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run one worker of a pipeline spread over processes (--runner kafka)',
  usage: 'sluice worker <pipeline.ts> --runner kafka --bootstrap HOST:PORT --group JOB --checkpoint-dir DIR [flags]',
  description: [
    'Started N times (on one machine or many) with the same --group, the workers form one job: Kafka',
    "carries records, watermarks and barriers between them (topic '<group>.sluice-exchange'), and the",
    'consumer group <group> numbers them. Thread 0 coordinates checkpoints into --checkpoint-dir: a folder',
    'every worker reads and writes, or s3://bucket/prefix (each worker uploads its own state files, so the',
    'machines share no folder). When a worker joins, leaves or dies (silent for --session-timeout),',
    'every worker restarts from the last complete checkpoint with the new number of workers: with',
    'exactly-once sinks (sink.kafka), the output holds every record once.',
    '',
    'A worker ends when the job ends (bounded input) or is stopped (sluice stop DIR), or leaves on',
    'SIGINT/SIGTERM (the others go on without it).',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the pipeline file (sluice worker <pipeline.ts>)' },
  flags: [
    { name: 'runner', type: 'string', placeholder: 'RUNNER', description: "how workers meet: 'kafka' (the only one)" },
    { name: 'bootstrap', type: 'string', placeholder: 'HOST:PORT', description: 'Kafka bootstrap servers, comma-separated' },
    { name: 'group', type: 'string', placeholder: 'JOB', description: "the job's name: its consumer group and the prefix of its internal topics" },
    { name: 'checkpoint-dir', type: 'string', placeholder: 'DIR', description: 'the checkpoint folder every worker of the job shares, or s3://bucket/prefix' },
    { name: 'checkpoint-interval', type: 'string', placeholder: 'DURATION', description: "time between checkpoints (default '10s')" },
    { name: 'session-timeout', type: 'string', placeholder: 'DURATION', description: "a worker silent this long is declared dead (default '10s')" },
    { name: 'min-workers', type: 'string', placeholder: 'N', description: 'workers the job waits for before it starts (and whenever fewer are left; default 1)' },
    { name: 'max-workers', type: 'string', placeholder: 'N', description: 'threads of one run at most; fixed when the first worker creates the exchange topic (default 16)' },
    { name: 'param', type: 'string', multiple: true, placeholder: 'key=value', description: 'a parameter for a pipeline factory' },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'no lines about runs and no summary' },
  ],
  examples: ['sluice worker pipelines/clicks.ts --runner kafka --bootstrap 127.0.0.1:9092 --group clicks --checkpoint-dir /mnt/shared/clicks'],

  async run({ values, positionals }, ctx) {
    if (values.runner !== 'kafka') throw new UsageError("--runner kafka is required (the only runner of 'sluice worker')", 'worker')
    const bootstrap = required(values, 'bootstrap')
    const group = required(values, 'group')
    const dir = required(values, 'checkpoint-dir')
    const checkpointDir = isS3Url(dir) ? dir : resolve(ctx.cwd, dir)
    const file = resolvePipelineFile(positionals[0], ctx.cwd)
    const maxWorkers = positiveIntFlag(values, 'max-workers', 'worker')
    const minWorkers = positiveIntFlag(values, 'min-workers', 'worker')
    const quiet = values.quiet === true
    const leave = new AbortController()
    const onSignal = (): void => leave.abort()
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      const o = {
        module: file,
        params: paramsFlag(values, 'worker'),
        bootstrap,
        group,
        checkpointDir,
        checkpointIntervalMs: duration(values, 'checkpoint-interval', 10_000),
        sessionTimeoutMs: duration(values, 'session-timeout', 10_000),
        signal: leave.signal,
        ...(maxWorkers !== undefined ? { maxWorkers } : {}),
        ...(minWorkers !== undefined ? { minWorkers } : {}),
        ...(quiet ? {} : { log: (line: string) => ctx.stderr.write(`worker ${process.pid}: ${line}\n`) }),
      }
      checkWorkerOptions(o)
      const out = await runKafkaWorker(o)
      if (!quiet) {
        ctx.stderr.write(`worker ${process.pid}: ${out.status === 'left' ? 'left the job' : `the job has ${out.status}`} after ${out.runs} run(s)\n`)
        if (out.summary !== undefined) ctx.stderr.write(formatSummary(out.summary) + '\n')
      }
      return exitCode.ok
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  },
}

function required(values: ParsedArgs['values'], name: string): string {
  const v = values[name]
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`, 'worker')
  return v
}

function duration(values: ParsedArgs['values'], name: string, dflt: number): number {
  const v = values[name]
  if (typeof v !== 'string') return dflt
  try {
    return parseDuration(v, `--${name}`)
  } catch (e) {
    throw new UsageError(errorMessage(e), 'worker')
  }
}
