import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { openLog, type Log } from '../log/index.ts'
import { CHECKPOINT_HEADER, commitsPath, readCommits, visibility, type TopicCommits, type Visibility } from './commits.ts'
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

/**
 * Fails with SLUICE_DLQ_NO_LOG unless `dir` holds an embedded log, so that reading dead letters from a
 * wrong folder says so instead of creating an empty log there.
 */
export async function requireLog(dir: string): Promise<void> {
  const found = await stat(join(dir, 'sluice-log.json')).then(
    (s) => s.isFile(),
    () => false,
  )
  if (!found) {
    throw new SluiceError('SLUICE_DLQ_NO_LOG', `'${dir}' holds no log (no sluice-log.json)`, {
      domain: 'user',
      hint: "give the folder of the pipeline's deadLetter.dir option; nothing was created there",
    })
  }
}

/**
 * Topics of `log` that hold dead letters: those with a commit state written by a DeadLetterWriter, and
 * those named like one (`*.dlq`) whose commit state is gone (scanning them then says so).
 */
export async function deadLetterTopics(log: Log): Promise<string[]> {
  const out: string[] = []
  for (const t of log.listTopics()) if (t.endsWith('.dlq') || (await readCommits(log.dir, t)) !== undefined) out.push(t)
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
    const c = commits?.partitions[String(p.partition)]
    const claimed = Math.max(c?.resolvedTo ?? 0, ...(c?.committed ?? []).map((r) => r[1]))
    if (claimed > p.endOffset) {
      // The commit state knows of letters the log no longer holds: say so rather than show fewer.
      throw new SluiceError('SLUICE_DLQ_CORRUPT', `dead-letter topic '${topic}' partition ${p.partition}: the commit state covers offsets up to ${claimed}, but the log ends at ${p.endOffset}; letters are missing`, {
        domain: 'external',
        hint: 'the log was cut or restored from an older copy; restore the log folder from a backup, or accept the loss by moving the commit state file away',
      })
    }
    let next = Math.max(opts.from ?? 0, p.startOffset)
    while (next < p.endOffset) {
      const b = await log.readBatch(topic, p.partition, next, { maxRecords: 1000 })
      if (b.offsets.length === 0) break
      for (let i = 0; i < b.offsets.length; i++) {
        const checkpoint = b.headers?.[i]?.[CHECKPOINT_HEADER]?.toString('utf8')
        if (checkpoint !== undefined && commits === undefined) {
          // Without it every checkpointed letter would look uncommitted: refuse rather than show none.
          throw new SluiceError('SLUICE_DLQ_CORRUPT', `dead-letter topic '${topic}' holds letters written under checkpoints, but its commit state (${commitsPath(log.dir, topic)}) is missing`, {
            domain: 'external',
            hint: 'restore the commit state file from a backup; without it, which letters were committed cannot be known',
          })
        }
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
  await requireLog(dir)
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
