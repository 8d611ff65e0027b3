import { appendFile, open, stat } from 'node:fs/promises'
import { SluiceError } from '../core/errors.ts'
import type { Log, LogRecordInput } from '../log/index.ts'
import { scanDeadLetters } from './reader.ts'
import { redriveLine } from './record.ts'

/** Where redriven records go: lines appended to a file, or records appended to a topic of the same log. */
export type RedriveTarget = { kind: 'file'; path: string } | { kind: 'topic'; topic: string }

export interface RedriveOptions {
  /** Only letters of this step. */
  step?: string
  /** Skip letters before this offset (they count as handled: the redrive offset moves past them). */
  from?: number
}

export interface RedriveResult {
  redriven: number
  /** Letters whose record cannot be written back (a `text` record, or a decoded record into a CSV file). */
  skipped: number
  /** Letters left for a later redrive: the first one waits on a checkpoint that has not completed yet. */
  pending: number
  /** Offset the redrive group now stands at. */
  nextOffset: number
}

/** The consumer group that remembers what was redriven: one per topic, and one per step for `--step`. */
export function redriveGroup(topic: string, step?: string): string {
  return step === undefined ? `sluice-dlq-redrive.${topic}` : `sluice-dlq-redrive.${topic}.step.${step}`
}

/**
 * Writes the original records of the visible letters of `topic` back into a pipeline's input and moves
 * the redrive group past them, so a second redrive does not repeat them. A letter counts as redriven when
 * it lies below the offset of the topic's group or of its step's group. The target is written (and
 * synced) before the offset is committed: a crash in between redrives those letters again (at-least-once).
 */
export async function redrive(log: Log, topic: string, target: RedriveTarget, o: RedriveOptions = {}): Promise<RedriveResult> {
  const partition = 0
  log.topic(topic).partition(partition)
  const done = (step: string | undefined) => log.committedOffset(redriveGroup(topic, step), topic, partition) ?? 0
  const allDone = done(undefined)
  const start = Math.max(o.from ?? 0, o.step === undefined ? allDone : Math.max(allDone, done(o.step)))
  const csv = target.kind === 'file' && target.path.toLowerCase().endsWith('.csv')
  const lines: string[] = []
  let skipped = 0
  let pending = 0
  let next = start
  let stopped = false
  for await (const s of scanDeadLetters(log, topic, { from: start })) {
    if (s.partition !== partition) continue
    if (s.visibility === 'pending') stopped = true
    if (stopped) {
      if (s.visibility !== 'aborted') pending++
      continue
    }
    next = s.offset + 1
    if (s.visibility !== 'visible') continue
    if (o.step !== undefined && s.letter.step !== o.step) continue
    if (o.step === undefined && s.offset < done(s.letter.step)) continue
    const line = redriveLine(s.letter)
    if (line === undefined || (csv && s.letter.recordFormat !== 'raw')) {
      skipped++
      continue
    }
    lines.push(line)
  }
  if (!stopped) next = Math.max(next, log.describe(topic).partitions[partition].endOffset)
  if (lines.length > 0) {
    if (target.kind === 'file') await appendLines(target.path, lines)
    else {
      await log.ensureTopic(target.topic)
      const records: LogRecordInput[] = lines.map((value) => ({ value }))
      for (let i = 0; i < records.length; i += 1000) await log.append(target.topic, 0, records.slice(i, i + 1000))
    }
  }
  if (next > (o.step === undefined ? allDone : done(o.step))) await log.commitOffset(redriveGroup(topic, o.step), topic, partition, next)
  return { redriven: lines.length, skipped, pending, nextOffset: next }
}

/** Appends lines to a file, starting on a new line if the file does not end with one, and syncs it. */
async function appendLines(path: string, lines: string[]): Promise<void> {
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
    await appendFile(path, lead + lines.join('\n') + '\n')
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
