import { createHash } from 'node:crypto'
import { appendFile, open, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import type { Log } from '../log/index.ts'
import { redriveLine } from './record.ts'
import { logLetterStore, type LetterStore } from './store.ts'

/** Where redriven records go: lines appended to a file, or records appended to a topic of the same store. */
export type RedriveTarget = { kind: 'file'; path: string } | { kind: 'topic'; topic: string }

export interface RedriveOptions {
  /** Only letters of this step. */
  step?: string
  /** Skip letters before this offset (they count as handled: the redrive offset moves past them). */
  from?: number
}

export interface RedriveResult {
  redriven: number
  /** Letters whose record cannot be written back (a `text` or truncated record, or a decoded record into a CSV file). */
  skipped: number
  /** Letters left for a later redrive: the first one waits on a checkpoint that has not completed yet. */
  pending: number
  /** Offset the redrive group now stands at. */
  nextOffset: number
}

/** A stable name for a redrive target: the file's absolute path, or the topic (`log:` or `kafka:` before it). */
export function targetId(t: RedriveTarget, scheme: LetterStore['scheme'] = 'log'): string {
  return t.kind === 'file' ? `file:${resolve(t.path)}` : `${scheme}:${t.topic}`
}

/**
 * The consumer group that remembers what was redriven to one target: one per topic and target, and one
 * per step for `--step`. Another target has its own groups, so letters can be sent again somewhere new.
 */
export function redriveGroup(topic: string, target: RedriveTarget, step?: string, scheme: LetterStore['scheme'] = 'log'): string {
  const to = createHash('sha256').update(targetId(target, scheme)).digest('hex').slice(0, 12)
  return step === undefined ? `sluice-dlq-redrive.${topic}.to.${to}` : `sluice-dlq-redrive.${topic}.to.${to}.step.${step}`
}

/**
 * Writes the original records of the visible letters of `topic` in the embedded log to `target`; see
 * `redriveFrom`, which does the same for any letter store.
 * @example await redrive(log, 'clicks.dlq', { kind: 'file', path: 'data/clicks-retry.jsonl' })
 */
export function redrive(log: Log, topic: string, target: RedriveTarget, o: RedriveOptions = {}): Promise<RedriveResult> {
  return redriveFrom(logLetterStore(log), topic, target, o)
}

/**
 * Writes the original records of the visible letters of `topic` to `target` (a pipeline input) and moves
 * the target's redrive group past them, so a second redrive to the same target does not repeat them; a
 * new target gets every letter again. A letter counts as redriven to a target when it lies below the
 * offset of the target's topic group or of its step group. Raw records are written byte for byte. The
 * target is written (and synced) before the offset is committed: a crash in between redrives those
 * letters again (at-least-once).
 * @example await redriveFrom(kafkaLetterStore({ brokers: 'localhost:9092' }), 'clicks.dlq', { kind: 'topic', topic: 'clicks' })
 */
export async function redriveFrom(store: LetterStore, topic: string, target: RedriveTarget, o: RedriveOptions = {}): Promise<RedriveResult> {
  const partition = 0
  const group = (step: string | undefined) => redriveGroup(topic, target, step, store.scheme)
  const stepDone = new Map<string, number>()
  const done = async (step: string | undefined): Promise<number> => {
    if (step === undefined) return (await store.committedOffset(group(undefined), topic)) ?? 0
    let n = stepDone.get(step)
    if (n === undefined) stepDone.set(step, (n = (await store.committedOffset(group(step), topic)) ?? 0))
    return n
  }
  const allDone = await done(undefined)
  const start = Math.max(o.from ?? 0, o.step === undefined ? allDone : Math.max(allDone, await done(o.step)))
  const csv = target.kind === 'file' && target.path.toLowerCase().endsWith('.csv')
  const lines: Buffer[] = []
  let skipped = 0
  let pending = 0
  let next = start
  let stopped = false
  for await (const s of store.scan(topic, { from: start })) {
    if (s.partition !== partition) continue
    if (s.visibility === 'pending') stopped = true
    if (stopped) {
      if (s.visibility !== 'aborted') pending++
      continue
    }
    next = s.offset + 1
    if (s.visibility !== 'visible') continue
    if (o.step !== undefined && s.letter.step !== o.step) continue
    if (o.step === undefined && s.offset < (await done(s.letter.step))) continue
    const line = redriveLine(s.letter)
    if (line === undefined || (csv && s.letter.recordFormat !== 'raw' && s.letter.recordFormat !== 'base64')) {
      skipped++
      continue
    }
    lines.push(line)
  }
  if (!stopped) next = Math.max(next, await store.endOffset(topic))
  if (lines.length > 0) {
    if (target.kind === 'file') await appendLines(target.path, lines)
    else await store.append(target.topic, lines)
  }
  if (next > (o.step === undefined ? allDone : await done(o.step))) await store.commitOffset(group(o.step), topic, next)
  return { redriven: lines.length, skipped, pending, nextOffset: next }
}

/** Appends lines to a file, starting on a new line if the file does not end with one, and syncs it. */
async function appendLines(path: string, lines: Buffer[]): Promise<void> {
  let lead = ''
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  )
  if (size > 0) {
    const fh = await open(path, 'r')
    try {
      const b = Buffer.alloc(1)
      await fh.read(b, 0, 1, size - 1)
      if (b[0] !== 0x0a) lead = '\n'
    } finally {
      await fh.close()
    }
  }
  try {
    const nl = Buffer.from('\n')
    await appendFile(path, Buffer.concat([Buffer.from(lead), ...lines.flatMap((l) => [l, nl])]))
    const fh = await open(path, 'r+')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch (e) {
    throw new SluiceError('SLUICE_DLQ_REDRIVE_FAILED', `could not append to '${path}'`, { domain: 'external', cause: e })
  }
}
