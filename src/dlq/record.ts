import { isUtf8 } from 'node:buffer'
import type { Position } from '../core/batch.ts'
import { SluiceError, errorMessage } from '../core/errors.ts'

/**
 * Why a record went to the dead-letter log: `parse`, a source could not decode the line (or its `parse`
 * option rejected it); `validation`, the decoded record failed a check (a source's, such as a valid event
 * time; a data contract's; a quality expectation with severity `drop`);
 * `user-function`, a step's function (map, filter, key, process, timer, aggregate, ...) threw.
 */
export type DeadLetterReason = 'parse' | 'validation' | 'user-function'

/**
 * How `record` holds the failed record: `raw`, the original line exactly as read (its bytes were valid
 * UTF-8); `base64`, the original line's exact bytes in base64 (they were not valid UTF-8); `json`, the
 * record as the failing step saw it (a JSON value); `text`, a record that JSON cannot represent (a cycle,
 * a BigInt) as `String(record)`, or a `json` record cut to the size limit, as the start of its JSON text.
 */
export type RecordFormat = 'raw' | 'base64' | 'json' | 'text'

/** Most bytes of a failed record a letter keeps (so it always fits the dead-letter log's 8 MiB records). */
export const MAX_LETTER_RECORD_BYTES = 1 << 20
/** Most characters of an error message or stack a letter keeps. */
const MAX_MESSAGE_CHARS = 8192

/** One dead letter: the value of a record in the dead-letter topic (UTF-8 JSON). */
export interface DeadLetter {
  pipeline: string
  step: string
  reason: DeadLetterReason
  /**
   * The error. With `encrypted`, its message and stack are ciphertexts (the letters of a pipeline with
   * `deadLetter.personalKeys`: a user function's message may quote the record); `privacy.decrypt` reads them.
   */
  error: { message: string; name: string; code?: string; stack?: string; encrypted?: true }
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
  /** Set when `record` holds only the first MAX_LETTER_RECORD_BYTES of the record (it cannot be redriven). */
  recordTruncated?: true
  /** With `recordTruncated`: the size of the whole record in bytes (the raw line, or its JSON text). */
  recordBytes?: number
  /** Set when the record's personal fields (`fields`) or the whole record (`whole`) are encrypted at rest. */
  recordEncrypted?: 'fields' | 'whole'
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
  /** The failed record; when `raw`, the line exactly as read: a string, or bytes when they are not valid UTF-8. */
  record: unknown
  raw: boolean
  includeStack: boolean
}

/**
 * Builds a dead letter. A raw record is kept byte for byte (as text when valid UTF-8, else base64); other
 * records as JSON (falling back to text). A record over MAX_LETTER_RECORD_BYTES is cut, and the letter
 * says so (`recordTruncated`, `recordBytes`), so a huge bad line is never lost nor fails the job.
 */
export function deadLetter(i: DeadLetterInput): DeadLetter {
  const err = i.error
  const error: DeadLetter['error'] = { message: clip(errorMessage(err)), name: err instanceof Error ? err.name : typeof err }
  if (err instanceof SluiceError) error.code = err.code
  else if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string') error.code = (err as { code: string }).code
  if (i.includeStack && err instanceof Error && err.stack !== undefined) error.stack = clip(err.stack)
  const d: DeadLetter = { pipeline: i.pipeline, step: i.step, reason: i.reason, error, position: i.position ?? null, attempts: i.attempts, time: i.time, record: null, recordFormat: 'raw' }
  if (i.raw) setRaw(d, i.record, originalSize(err))
  else setJson(d, i.record)
  if (i.eventTime !== undefined && Number.isFinite(i.eventTime)) d.eventTime = i.eventTime
  return d
}

/** The size a source reported for a record it could hand over only in part (an over-long line). */
function originalSize(err: unknown): number | undefined {
  const n = (err as { recordBytes?: unknown } | null)?.recordBytes
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined
}

function setRaw(d: DeadLetter, record: unknown, reported: number | undefined): void {
  const bytes = typeof record === 'string' ? Buffer.from(record, 'utf8') : record instanceof Uint8Array ? Buffer.from(record.buffer, record.byteOffset, record.byteLength) : Buffer.from(String(record), 'utf8')
  const size = Math.max(bytes.length, reported ?? 0)
  const cut = bytes.length > MAX_LETTER_RECORD_BYTES
  const kept = cut ? bytes.subarray(0, MAX_LETTER_RECORD_BYTES) : bytes
  let text: string | undefined
  if (typeof record === 'string' && !cut) text = record
  else {
    const k = cut ? utf8Prefix(kept) : isUtf8(kept) ? kept.length : -1
    if (k >= 0) text = kept.toString('utf8', 0, k)
  }
  let stored: number
  if (text !== undefined) {
    d.record = text
    stored = cut ? Buffer.byteLength(text) : bytes.length
  } else {
    d.record = kept.toString('base64')
    d.recordFormat = 'base64'
    stored = kept.length
  }
  if (size > stored) {
    d.recordTruncated = true
    d.recordBytes = size
  }
}

function setJson(d: DeadLetter, record: unknown): void {
  d.recordFormat = 'json'
  let text: string | undefined
  try {
    text = JSON.stringify(record)
  } catch {
    text = undefined
    d.recordFormat = 'text'
  }
  if (d.recordFormat === 'json') {
    if (text === undefined) {
      d.record = null
      return
    }
    if (text.length <= MAX_LETTER_RECORD_BYTES / 4 || Buffer.byteLength(text) <= MAX_LETTER_RECORD_BYTES) {
      d.record = JSON.parse(text)
      return
    }
    d.recordFormat = 'text'
  } else {
    try {
      text = String(record)
    } catch {
      text = Object.prototype.toString.call(record)
    }
  }
  const b = Buffer.from(text!, 'utf8')
  if (b.length <= MAX_LETTER_RECORD_BYTES) {
    d.record = text
    return
  }
  d.record = b.toString('utf8', 0, Math.max(0, utf8Prefix(b.subarray(0, MAX_LETTER_RECORD_BYTES))))
  d.recordTruncated = true
  d.recordBytes = b.length
}

/** The longest prefix of `b` (dropping at most a cut character's 3 bytes) that is valid UTF-8, or -1. */
function utf8Prefix(b: Buffer): number {
  for (let k = b.length; k >= Math.max(0, b.length - 3); k--) if (isUtf8(b.subarray(0, k))) return k
  return -1
}

function clip(s: string): string {
  return s.length <= MAX_MESSAGE_CHARS ? s : `${s.slice(0, MAX_MESSAGE_CHARS)}… (${s.length} characters)`
}

/**
 * The bytes to write back into a pipeline's input: the raw line exactly, or the record as one line of
 * JSON. Undefined for a `text` record and a truncated one, which cannot be read back.
 */
export function redriveLine(d: DeadLetter): Buffer | undefined {
  if (d.recordTruncated === true) return undefined
  if (d.recordFormat === 'raw') return Buffer.from(String(d.record), 'utf8')
  if (d.recordFormat === 'base64') return Buffer.from(String(d.record), 'base64')
  if (d.recordFormat === 'json') return Buffer.from(JSON.stringify(d.record), 'utf8')
  return undefined
}
