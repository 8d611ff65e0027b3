import { SluiceError } from '../core/errors.ts'
import { openLog, type Log } from '../log/index.ts'
import { CHECKPOINT_HEADER, readCommits, visibility, type TopicCommits, type Visibility } from './commits.ts'
import type { DeadLetter } from './record.ts'

/** A dead letter as stored: where it is, whether readers may see it, and the letter. */
export interface StoredDeadLetter {
  partition: number
  offset: number
  /** The checkpoint it was written at ('end' at the end of input), absent without checkpoints. */
  checkpoint: string | undefined
  visibility: Visibility
  letter: DeadLetter
}

/** Topics of `log` that hold dead letters: those with a commit state written by a DeadLetterWriter. */
export async function deadLetterTopics(log: Log): Promise<string[]> {
  const out: string[] = []
  for (const t of log.listTopics()) if ((await readCommits(log.dir, t)) !== undefined) out.push(t)
  return out
}

/**
 * Every stored letter of `topic` from offset `from` on (in each partition), visible or not, in offset
 * order. Readers show only `visibility === 'visible'`.
 */
export async function* scanDeadLetters(log: Log, topic: string, opts: { from?: number } = {}): AsyncGenerator<StoredDeadLetter> {
  const commits: TopicCommits | undefined = await readCommits(log.dir, topic)
  const info = log.describe(topic)
  for (const p of info.partitions) {
    let next = Math.max(opts.from ?? 0, p.startOffset)
    while (next < p.endOffset) {
      const b = await log.readBatch(topic, p.partition, next, { maxRecords: 1000 })
      if (b.offsets.length === 0) break
      for (let i = 0; i < b.offsets.length; i++) {
        const checkpoint = b.headers?.[i]?.[CHECKPOINT_HEADER]?.toString('utf8')
        let letter: DeadLetter
        try {
          letter = JSON.parse(b.values[i].toString('utf8')) as DeadLetter
        } catch {
          throw new SluiceError('SLUICE_DLQ_CORRUPT', `log topic '${topic}' partition ${p.partition} offset ${b.offsets[i]} is not a dead letter (not JSON)`, { domain: 'user', hint: 'is this a dead-letter topic?' })
        }
        yield { partition: p.partition, offset: b.offsets[i], checkpoint, visibility: visibility(commits?.partitions[String(p.partition)], b.offsets[i], checkpoint !== undefined), letter }
      }
      next = b.nextOffset
    }
  }
}

/**
 * The visible (committed) letters of `topic` in the log in `dir`, opening and closing the log.
 * @example const letters = await readDeadLetters('data/log', 'clicks.dlq')
 */
export async function readDeadLetters(dir: string, topic: string, opts: { from?: number; step?: string } = {}): Promise<(DeadLetter & { offset: number })[]> {
  const log = await openLog(dir, { retentionCheckMs: 0 })
  try {
    const out: (DeadLetter & { offset: number })[] = []
    for await (const s of scanDeadLetters(log, topic, opts)) {
      if (s.visibility !== 'visible' || (opts.step !== undefined && s.letter.step !== opts.step)) continue
      out.push({ offset: s.offset, ...s.letter })
    }
    return out
  } finally {
    await log.close()
  }
}
