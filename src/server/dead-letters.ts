import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { scanDeadLetters, type StoredDeadLetter } from '../dlq/reader.ts'
import { redrive, type RedriveResult } from '../dlq/redrive.ts'
import type { Log } from '../log/index.ts'
import { MASK, maskPersonal } from './job-info.ts'

/** A dead letter as the API shows it: where it is, why it failed, and its record with personal fields masked. */
export interface LetterView {
  offset: number
  visibility: StoredDeadLetter['visibility']
  step: string
  reason: string
  error: { name: string; message: string; code?: string }
  position: unknown
  attempts: number
  time: number
  eventTime?: number
  record: unknown
  recordFormat: string
}

/** The record of a letter with personal fields masked: a raw line is masked as JSON when it is JSON, else hidden whole. */
function maskedRecord(s: StoredDeadLetter, personal: readonly string[]): unknown {
  const { record, recordFormat } = s.letter
  if (personal.length === 0) return record
  if (recordFormat === 'json') return maskPersonal(record, personal)
  if (recordFormat === 'raw' && typeof record === 'string') {
    try {
      return JSON.stringify(maskPersonal(JSON.parse(record), personal))
    } catch {
      return MASK
    }
  }
  return MASK
}

function view(s: StoredDeadLetter, personal: readonly string[]): LetterView {
  const l = s.letter
  return {
    offset: s.offset,
    visibility: s.visibility,
    step: l.step,
    reason: l.reason,
    error: { name: l.error.name, message: l.error.message, ...(l.error.code !== undefined ? { code: l.error.code } : {}) },
    position: l.position,
    attempts: l.attempts,
    time: l.time,
    ...(l.eventTime !== undefined ? { eventTime: l.eventTime } : {}),
    record: maskedRecord(s, personal),
    recordFormat: l.recordFormat,
  }
}

/**
 * Letters of `topic` from offset `from` on, at most `limit`, visible and pending ones (aborted ones never show);
 * `next` is the offset to ask for the following page.
 * @example const page = await listDeadLetters(log, 'orders.dlq', { from: 0, limit: 50, personal: ['email'] })
 */
export async function listDeadLetters(log: Log, topic: string, o: { from: number; limit: number; personal: readonly string[] }): Promise<{ topic: string; letters: LetterView[]; next: number }> {
  const letters: LetterView[] = []
  let next = o.from
  for await (const s of scanDeadLetters(log, topic, { from: o.from })) {
    next = s.offset + 1
    if (s.visibility === 'aborted') continue
    letters.push(view(s, o.personal))
    if (letters.length >= o.limit) break
  }
  return { topic, letters, next }
}

/** The letter at `offset`, or undefined. */
export async function showDeadLetter(log: Log, topic: string, offset: number, personal: readonly string[]): Promise<LetterView | undefined> {
  for await (const s of scanDeadLetters(log, topic, { from: offset })) {
    if (s.offset !== offset) return undefined
    return s.visibility === 'aborted' ? undefined : view(s, personal)
  }
  return undefined
}

/**
 * Redrives the visible letters to a topic of the same log, or to a file named `file` in `redriveDir` (a caller
 * never picks a path); see `redrive` for the once-per-target bookkeeping.
 */
export async function redriveDeadLetters(log: Log, topic: string, to: { topic?: string; file?: string; step?: string; from?: number }, redriveDir: string): Promise<RedriveResult & { target: string }> {
  let target: { kind: 'topic'; topic: string } | { kind: 'file'; path: string }
  if (to.topic !== undefined) {
    await log.ensureTopic(to.topic, { partitions: 1 })
    target = { kind: 'topic', topic: to.topic }
  } else {
    await mkdir(redriveDir, { recursive: true })
    target = { kind: 'file', path: join(redriveDir, to.file!) }
  }
  const r = await redrive(log, topic, target, { ...(to.step !== undefined ? { step: to.step } : {}), ...(to.from !== undefined ? { from: to.from } : {}) })
  return { ...r, target: target.kind === 'topic' ? `log:${target.topic}` : `file:${to.file!}` }
}
