import type { Position } from '../core/batch.ts'
import { SluiceError, errorMessage } from '../core/errors.ts'

/**
 * Why a record went to the dead-letter log: `parse`, a source could not decode the line (or its `parse`
 * option rejected it); `validation`, the decoded record failed a source's checks (no valid event time);
 * `user-function`, a step's function (map, filter, key, process, timer, aggregate, ...) threw.
 */
export type DeadLetterReason = 'parse' | 'validation' | 'user-function'

/**
 * How `record` holds the failed record: `raw`, the original line exactly as read (a string); `json`, the
 * record as the failing step saw it (a JSON value); `text`, a record that JSON cannot represent (a cycle,
 * a BigInt), as `String(record)`.
 */
export type RecordFormat = 'raw' | 'json' | 'text'

/** One dead letter: the value of a record in the dead-letter topic (UTF-8 JSON). */
export interface DeadLetter {
  pipeline: string
  step: string
  reason: DeadLetterReason
  error: { message: string; name: string; code?: string; stack?: string }
  /** Source position of the record (file:line, log offset, sequence number), null when unknown. */
  position: Position | null
  /** Calls of the function that failed (1 + retries). */
  attempts: number
  /** Processing time of the failure, epoch ms. */
  time: number
  /** The record's timestamp in the pipeline (event time, or ingestion time in processing-time pipelines), when there is one. */
  eventTime?: number
  record: unknown
  recordFormat: RecordFormat
}

export interface DeadLetterInput {
  pipeline: string
  step: string
  reason: DeadLetterReason
  error: unknown
  position: Position | undefined
  attempts: number
  time: number
  eventTime: number | undefined
  /** The failed record; a string when `raw`. */
  record: unknown
  raw: boolean
  includeStack: boolean
}

/** Builds a dead letter; the record is stored as is when raw, else as JSON (falling back to text). */
export function deadLetter(i: DeadLetterInput): DeadLetter {
  const err = i.error
  const error: DeadLetter['error'] = { message: errorMessage(err), name: err instanceof Error ? err.name : typeof err }
  if (err instanceof SluiceError) error.code = err.code
  else if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string') error.code = (err as { code: string }).code
  if (i.includeStack && err instanceof Error && err.stack !== undefined) error.stack = err.stack
  let record: unknown = i.record
  let recordFormat: RecordFormat = 'raw'
  if (!i.raw) {
    recordFormat = 'json'
    try {
      const text = JSON.stringify(i.record)
      record = text === undefined ? null : JSON.parse(text)
    } catch {
      record = String(i.record)
      recordFormat = 'text'
    }
  }
  const d: DeadLetter = { pipeline: i.pipeline, step: i.step, reason: i.reason, error, position: i.position ?? null, attempts: i.attempts, time: i.time, record, recordFormat }
  if (i.eventTime !== undefined && Number.isFinite(i.eventTime)) d.eventTime = i.eventTime
  return d
}

/**
 * The bytes to write back into a pipeline's input: the raw line, or the record as one line of JSON.
 * Undefined for a `text` record, which cannot be read back.
 */
export function redriveLine(d: DeadLetter): string | undefined {
  if (d.recordFormat === 'raw') return String(d.record)
  if (d.recordFormat === 'json') return JSON.stringify(d.record)
  return undefined
}
