import { SluiceError, errorMessage } from '../core/errors.ts'
import type { Duration } from '../core/duration.ts'
import { TwoPhaseCommit, type Transactions } from '../checkpoint/two-phase-commit.ts'
import { openLog, type Log, type LogOptions, type LogRecordInput } from '../log/index.ts'
import { CHECKPOINT_HEADER, addRange, commitsPath, partitionCommits, readCommits, writeCommits, type TopicCommits } from './commits.ts'
import { scanDeadLetters } from './reader.ts'
import { BufferedLetterWriter, SPILLED } from './buffered-letter-writer.ts'
import type { DeadLetter } from './record.ts'

export { SPILLED }

export interface DeadLetterWriterOptions {
  /** The embedded log folder. */
  dir: string
  topic: string
  /**
   * True when the run takes checkpoints: letters are appended at `preCommit` and become visible at
   * `commit` (exactly-once). False (default): they are appended after every batch that produced some
   * and are visible at once (at-least-once) until `recover` or `preCommit` is first called, which
   * switches the writer to checkpoints.
   */
  checkpointing?: boolean
  /** Options for opening the log (fsync policy, logger). */
  log?: LogOptions
  /**
   * How long letters are kept: whole old segments of the topic go once their newest letter is older than
   * `maxAge`, or while the topic holds more than `maxBytes`; the open log enforces it every 5 minutes while
   * the job runs. Kept in the topic's settings (an existing topic takes the new ones). Default: kept.
   */
  retention?: { maxAge?: Duration; maxBytes?: number }
  /**
   * Under checkpoints, letters buffered beyond this many bytes (default 4 MiB) are appended to the log at once,
   * staged (invisible, like a pre-commit's) in the open transaction, so memory stays bounded however many
   * records fail between two checkpoints.
   */
  spillBytes?: number
}

/** One transaction of dead letters: the offsets a pre-commit appended, visible once committed. */
export interface DeadLetterRange {
  topic: string
  partition: number
  /** First offset of the letters. */
  from: number
  /** Offset after the last one. */
  to: number
}

const PARTITION = 0

/**
 * Appends dead letters to a topic of the embedded log, with the same two-phase contract as a sink
 * (SinkWriter.preCommit / commit / recover, through `TwoPhaseCommit`). See src/dlq/README.md for the design;
 * buffering, checkpoint cuts and spilling are `BufferedLetterWriter`'s.
 *
 * `add` is synchronous (it is called from the error policy, inside a batch); log work is serialised on
 * one promise chain so offsets and commit-state writes happen in call order.
 * @example
 * const w = await DeadLetterWriter.open({ dir: 'data/log', topic: 'clicks.dlq', checkpointing: true })
 * w.add(letter)
 * const handle = await w.preCommit(7) // at the barrier of checkpoint 7
 * await w.commit(7, handle)           // once checkpoint 7 is complete
 */
export class DeadLetterWriter extends BufferedLetterWriter<Encoded> {
  readonly dir: string
  readonly topic: string
  private readonly log: Log
  private readonly commits: TopicCommits
  /** First offset of letters spilled into the open transaction, if any. */
  private stagedFrom: number | undefined = undefined
  protected readonly tpc: TwoPhaseCommit<DeadLetterRange>

  private constructor(o: DeadLetterWriterOptions, log: Log, commits: TopicCommits) {
    super(o.checkpointing, o.spillBytes)
    this.dir = o.dir
    this.topic = o.topic
    this.log = log
    this.commits = commits
    this.tpc = new TwoPhaseCommit(this.txns, { subtask: 0, stepId: '$dead-letters' }, `dead-letter topic '${o.topic}'`)
  }

  /** Opens the log (taking its lock until `close`) and creates the topic and its commit state if new. */
  static async open(o: DeadLetterWriterOptions): Promise<DeadLetterWriter> {
    // Without a retention of its own the log has nothing to enforce: no timer.
    const log = await openLog(o.dir, { ...(o.retention === undefined ? { retentionCheckMs: 0 } : {}), ...o.log })
    try {
      await log.ensureTopic(o.topic, { partitions: 1 })
      if (o.retention !== undefined) await log.setRetention(o.topic, { retentionMs: o.retention.maxAge ?? null, retentionBytes: o.retention.maxBytes ?? null })
      let commits = await readCommits(o.dir, o.topic)
      if (commits === undefined) {
        // A missing commit state over checkpointed letters cannot be rebuilt: a new empty one would hide the
        // committed letters (and the next recover would abort them for good). Refuse, as readers do.
        await requireNoCheckpointedLetters(log, o.topic)
        commits = { version: 1, topic: o.topic, partitions: {} }
        partitionCommits(commits, PARTITION)
        await writeCommits(o.dir, commits)
      }
      return new DeadLetterWriter(o, log, commits)
    } catch (e) {
      await log.close()
      throw e
    }
  }

  /** The open log (this writer holds its lock), for readers in the same process such as the control plane. */
  get openLog(): Log {
    return this.log
  }

  /**
   * How many committed letters a restore of checkpoint `restored` would write again: those committed by a later
   * checkpoint or at the end of input (all committed checkpointed letters when `restored` is undefined, a start
   * from scratch). A restore cannot take them back: readers may have seen them.
   */
  committedAfter(restored: number | undefined): Promise<number> {
    return this.serial(async () => {
      let n = 0
      for await (const s of scanDeadLetters(this.log, this.topic)) {
        if (s.visibility === 'visible' && s.checkpoint !== undefined && committedLater(s.checkpoint, restored)) n++
      }
      return n
    })
  }

  protected encode(l: DeadLetter): { record: Encoded; bytes: number } {
    const record = { key: l.step, value: JSON.stringify(l), timestamp: Math.trunc(l.time) }
    return { record, bytes: record.value.length }
  }

  protected write(letters: Encoded[]): Promise<void> {
    return this.append(letters, undefined)
  }

  protected stage(letters: Encoded[], checkpoint: string): Promise<void> {
    return this.append(letters, checkpoint)
  }

  protected override beforeSpill(): void {
    this.stagedFrom ??= this.endOffset()
  }

  protected release(): Promise<void> {
    return this.log.close()
  }

  private endOffset(): number {
    return this.log.describe(this.topic).partitions[PARTITION].endOffset
  }

  /** The letters' transactions, for the two-phase commit; called on the serial chain. */
  private readonly txns: Transactions<DeadLetterRange> = {
    preCommit: async (id) => {
      const from = this.stagedFrom ?? this.endOffset()
      this.stagedFrom = undefined
      await this.stageCut(id)
      const to = this.endOffset()
      return to > from ? { topic: this.topic, partition: PARTITION, from, to } : undefined
    },
    commit: async (r) => {
      if (addRange(partitionCommits(this.commits, r.partition).committed, r.from, r.to)) await writeCommits(this.dir, this.commits)
    },
    // Every checkpointed letter up to the log end that is not committed now is aborted, for good.
    abort: async () => {
      this.stagedFrom = undefined
      const p = partitionCommits(this.commits, PARTITION)
      p.resolvedTo = Math.max(p.resolvedTo, this.endOffset())
      await writeCommits(this.dir, this.commits)
    },
    check: (r) => checkRange(r, this.topic),
    legacy: (h) => (typeof h === 'object' && h !== null && 'from' in h ? [h] : undefined),
  }

  private async append(letters: Encoded[], checkpoint: string | undefined): Promise<void> {
    if (letters.length === 0) return
    const headers = checkpoint === undefined ? undefined : { [CHECKPOINT_HEADER]: checkpoint }
    const records: LogRecordInput[] = headers === undefined ? letters : letters.map((l) => ({ ...l, headers }))
    try {
      await this.log.append(this.topic, PARTITION, records)
    } catch (e) {
      throw e instanceof SluiceError
        ? e
        : new SluiceError('SLUICE_DLQ_WRITE_FAILED', `could not append ${letters.length} dead letters to log topic '${this.topic}': ${errorMessage(e)}`, { domain: 'external', retryable: true, cause: e })
    }
    this.appended += letters.length
  }
}

async function requireNoCheckpointedLetters(log: Log, topic: string): Promise<void> {
  const p = log.describe(topic).partitions[PARTITION]
  let next = p.startOffset
  while (next < p.endOffset) {
    const b = await log.readBatch(topic, PARTITION, next, { maxRecords: 1000 })
    if (b.offsets.length === 0) return
    if (b.headers?.some((h) => h?.[CHECKPOINT_HEADER] !== undefined) === true) {
      throw new SluiceError('SLUICE_DLQ_CORRUPT', `dead-letter topic '${topic}' holds letters written under checkpoints, but its commit state (${commitsPath(log.dir, topic)}) is missing`, {
        domain: 'external',
        hint: 'restore the commit state file from a backup; without it, which letters were committed cannot be known, and writing on would lose or repeat some',
      })
    }
    next = b.nextOffset
  }
}

/**
 * Whether a committed letter with this checkpoint header (`<id>`, `after:<id>` or `end`) would be written
 * again by a restore of checkpoint `restored` (undefined: a start from scratch).
 */
export function committedLater(checkpoint: string, restored: number | undefined): boolean {
  if (restored === undefined || checkpoint === 'end') return true
  // A spilled letter ('after:<id>') belongs to the first checkpoint after <id>.
  return checkpoint.startsWith(SPILLED) ? Number(checkpoint.slice(SPILLED.length)) >= restored : Number(checkpoint) > restored
}

/** A letter as the log record it becomes (encoded when added, so its size is known). */
interface Encoded {
  key: string
  value: string
  timestamp: number
}

function checkRange(h: unknown, topic: string): DeadLetterRange {
  const o = h as Partial<DeadLetterRange> | null
  if (o === null || typeof o !== 'object' || o.topic !== topic || !Number.isSafeInteger(o.partition) || !Number.isSafeInteger(o.from) || !Number.isSafeInteger(o.to)) {
    throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `a checkpoint's dead-letter handle does not belong to log topic '${topic}'`, { domain: 'user', hint: 'restore with the same deadLetter options the checkpoint was taken with' })
  }
  return o as DeadLetterRange
}
