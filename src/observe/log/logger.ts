import { pino, type Logger } from 'pino'
import { prettyOutput, type LogOutput } from './pretty.ts'
import { safeError } from './scrub.ts'

export type { Logger } from 'pino'

export interface LoggerOptions {
  pipeline: string
  /** 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'. Default 'info'. */
  level?: string
  /** JSON lines, or one readable line each; 'auto' (default): readable on a terminal, JSON otherwise. */
  format?: 'json' | 'pretty' | 'auto'
  /** Default process.stderr. */
  destination?: LogOutput
}

/**
 * Keys a log call may never write: a record, its value or raw bytes end up as `[redacted]` whatever is passed.
 * Log calls give steps, subtasks, checkpoints, positions and counts, never data.
 */
const REDACT = ['record', 'records', 'value', 'raw', 'key', 'row', '*.record', '*.value', '*.raw', '*.key', '*.row']

/**
 * A structured logger (pino) for a job: JSON lines with `pipeline` on every line and `step`, `subtask` and
 * `checkpoint` where they apply (`child({ step, subtask })`); errors through `safeError`, so neither a record's
 * contents nor a foreign message quoting them reaches a line.
 * @example
 * const log = createLogger({ pipeline: 'orders', format: 'json' })
 * log.child({ step: 'validate', subtask: 0 }).warn({ err }, 'record failed')
 */
export function createLogger(opts: LoggerOptions): Logger {
  const out = opts.destination ?? process.stderr
  const format = opts.format === undefined || opts.format === 'auto' ? (out.isTTY === true ? 'pretty' : 'json') : opts.format
  const destination = format === 'pretty' ? prettyOutput(out) : out
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pipeline: opts.pipeline },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: safeError },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    { write: (s: string) => void destination.write(s) },
  )
}
