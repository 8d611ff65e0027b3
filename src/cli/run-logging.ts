import type { Pipeline } from '../api/pipeline.ts'
import { createLogger, type Logger } from '../observe/log/logger.ts'
import { logFinalMetrics, logJobEvents } from '../runtime/job/job-log.ts'
import type { JobHandle } from '../runtime/job/types.ts'
import { UsageError, type CliContext, type ParsedArgs } from './command.ts'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

/** `--log` and `--log-level` of `sluice run`: a logger on stderr, or undefined without `--log`. */
export function runLogger(values: ParsedArgs['values'], p: Pipeline, ctx: CliContext): Logger | undefined {
  const format = values.log
  const level = values['log-level']
  if (format === undefined) {
    if (level !== undefined) throw new UsageError('--log-level needs --log json or --log pretty', 'run')
    return undefined
  }
  if (format !== 'json' && format !== 'pretty') throw new UsageError(`--log must be 'json' or 'pretty', got '${String(format)}'`, 'run')
  if (level !== undefined && !LEVELS.includes(String(level))) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, got '${String(level)}'`, 'run')
  return createLogger({ pipeline: p.name, format, destination: ctx.stderr, ...(typeof level === 'string' ? { level } : {}) })
}

/** Logs the job's events while it runs and its totals per step and subtask when it ends. */
export function logRun(job: JobHandle, log: Logger): Promise<void> {
  const stop = logJobEvents(job, log)
  return job.done.then(
    () => {
      stop()
      logFinalMetrics(log, job.metrics())
    },
    () => {
      stop()
      logFinalMetrics(log, job.metrics())
    },
  )
}
