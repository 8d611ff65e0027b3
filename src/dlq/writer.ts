import { SluiceError, errorMessage } from '../core/errors.ts'
import type { RestoredHandle } from '../core/sink.ts'
import { TwoPhaseCommit, type Transactions } from '../checkpoint/two-phase-commit.ts'
import { openLog, type Log, type LogOptions, type LogRecordInput } from '../log/index.ts'
import { CHECKPOINT_HEADER, addRange, commitsPath, partitionCommits, readCommits, writeCommits, type TopicCommits } from './commits.ts'
import { scanDeadLetters } from './reader.ts'
import type { DeadLetter } from './record.ts'

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
/** Header value prefix of letters spilled before their checkpoint's barrier: `after:<id>`, id the last checkpoint pre-committed or restored. */
export const SPILLED = 'after:'
/** The checkpoint id of the transaction `close` commits at the end of input (its letters' header says 'end'). */
const END = Number.MAX_SAFE_INTEGER

/**
 * Appends dead letters to a topic of the embedded log, with the same two-phase contract as a sink
 * (SinkWriter.preCommit / commit / recover, through `TwoPhaseCommit`). See src/dlq/README.md for the design.
 *
 * `add` is synchronous (it is called from the error policy, inside a batch); log work is serialised on
 * one promise chain so offsets and commit-state writes happen in call order.
 * @example
 * const w = await DeadLetterWriter.open({ dir: 'data/log', topic: 'clicks.dlq', checkpointing: true })
 * w.add(letter)
 * const handle = await w.preCommit(7) // at the barrier of checkpoint 7
 * await w.commit(7, handle)           // once checkpoint 7 is complete
 */
export class DeadLetterWriter {
  readonly dir: string
  readonly topic: string
  /** Letters appended so far by this writer. */
  appended = 0
  /** Receives the promise of each automatic (at-least-once) append, so the runner can wait on it (backpressure). */
  onPending: ((p: Promise<void>) => void) | undefined = undefined
  private readonly log: Log
  private readonly commits: TopicCommits
  /** Letters added and not yet appended, encoded as log records. */
  private buffer: Encoded[] = []
  /** The letters of each `preCommit` called and not yet run, oldest first. */
  private readonly cuts: Encoded[][] = []
  private bufferBytes = 0
  private readonly spillBytes: number
  private spilling = false
  /** First offset of letters spilled into the open transaction, if any. */
  private stagedFrom: number | undefined = undefined
  /** The last checkpoint pre-committed (or restored): spilled letters belong to a later one. */
  private lastCheckpoint = 0
  private chain: Promise<unknown> = Promise.resolve()
  private scheduled = false
  private failure: unknown = undefined
  private closed = false
  private transactional: boolean
  private readonly tpc: TwoPhaseCommit<DeadLetterRange>

  private constructor(o: DeadLetterWriterOptions, log: Log, commits: TopicCommits) {
    this.dir = o.dir
    this.topic = o.topic
    this.transactional = o.checkpointing === true
    this.spillBytes = o.spillBytes ?? 4 * 1024 * 1024
    this.log = log
    this.commits = commits
    this.tpc = new TwoPhaseCommit(this.txns, { subtask: 0, stepId: '$dead-letters' }, `dead-letter topic '${o.topic}'`)
  }

  /** Opens the log (taking its lock until `close`) and creates the topic and its commit state if new. */
  static async open(o: DeadLetterWriterOptions): Promise<DeadLetterWriter> {
    const log = await openLog(o.dir, { retentionCheckMs: 0, ...o.log })
    try {
      await log.ensureTopic(o.topic, { partitions: 1 })
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

  /** True once letters are written under checkpoints (exactly-once), false while at-least-once. */
  get checkpointing(): boolean {
    return this.transactional
  }

  /** The open log (this writer holds its lock), for readers in the same process such as the control plane. */
  get openLog(): Log {
    return this.log
  }

  /** Letters added and not yet appended. */
  get buffered(): number {
    return this.buffer.length
  }

  /** Buffers a letter. Without checkpoints, an append of everything buffered follows once the current batch is done. */
  add(letter: DeadLetter): void {
    const e = encode(letter)
    this.buffer.push(e)
    if (this.transactional) {
      this.bufferBytes += e.value.length
      if (this.bufferBytes >= this.spillBytes && !this.spilling) this.spill()
      return
    }
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      const p = this.flush()
      if (this.onPending !== undefined) this.onPending(p)
      else p.catch((e: unknown) => (this.failure ??= e))
    })
  }

  /** At-least-once: appends what is buffered (no-op under checkpoints, where `preCommit` appends). */
  flush(): Promise<void> {
    if (this.transactional) return this.check()
    return this.serial(async () => {
      await this.append(this.buffer.splice(0), undefined)
    })
  }

  /**
   * Under checkpoints, appends what is buffered now, staged in the open transaction (a checkpointed header,
   * not committed), and hands the promise to `onPending` so the runner waits on it (backpressure).
   */
  private spill(): void {
    this.spilling = true
    // Taken now, not when the append runs: letters added meanwhile may belong to a later checkpoint.
    const letters = this.buffer.splice(0)
    this.bufferBytes = 0
    const p = this.serial(async () => {
      // A fresh start first aborts what a crashed run left (the letters spilled now must not be among them).
      await this.tpc.ensureRecovered()
      this.stagedFrom ??= this.endOffset()
      await this.append(letters, SPILLED + String(this.lastCheckpoint))
    }).finally(() => (this.spilling = false))
    if (this.onPending !== undefined) this.onPending(p)
    else p.catch(() => undefined)
  }

  /**
   * Phase one at checkpoint `checkpointId`: appends the letters buffered at the call (not those added while
   * earlier log work finishes, which belong to a later checkpoint), durable but not yet visible.
   */
  preCommit(checkpointId: number): Promise<unknown> {
    this.transactional = true
    this.cuts.push(this.buffer.splice(0))
    this.bufferBytes = 0
    return this.serial(() => this.tpc.preCommit(checkpointId))
  }

  /** Phase two: makes the letters of `handle` (and of earlier checkpoints of this run) visible. Idempotent. */
  commit(checkpointId: number, handle: unknown): Promise<void> {
    return this.serial(() => this.tpc.commit(checkpointId, handle))
  }

  /**
   * On restart, before any letter is added: commits the restored handles (they may be committed already)
   * and aborts every checkpointed letter after them, so readers never see letters of a checkpoint that did
   * not complete. With an empty list everything uncommitted is aborted.
   */
  recover(restored: readonly RestoredHandle[], checkpointId?: number): Promise<void> {
    this.transactional = true
    this.buffer = []
    this.cuts.length = 0
    this.bufferBytes = 0
    this.lastCheckpoint = Math.max(checkpointId ?? 0, ...restored.map((r) => r.checkpointId))
    return this.serial(() => this.tpc.recover(restored))
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

  /**
   * Closes the writer and the log. Without checkpoints, appends what is buffered first. Under checkpoints,
   * `finished` (all input processed) appends and commits what is left, as a final checkpoint would; a
   * stopped or failed run leaves it to the replay from the last checkpoint.
   */
  async close(finished = true): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      if (!this.transactional) await this.serial(() => this.append(this.buffer.splice(0), undefined))
      else if (finished) {
        await this.serial(async () => {
          const h = await this.tpc.preCommit(END)
          await this.tpc.commit(END, h)
        })
      } else {
        await this.chain.catch(() => undefined)
      }
    } finally {
      await this.log.close()
    }
  }

  private endOffset(): number {
    return this.log.describe(this.topic).partitions[PARTITION].endOffset
  }

  /** The letters' transactions, for the two-phase commit; called on the serial chain. */
  private readonly txns: Transactions<DeadLetterRange> = {
    preCommit: async (id) => {
      const from = this.stagedFrom ?? this.endOffset()
      this.stagedFrom = undefined
      // `preCommit` took its letters when called; the end of input takes what is left.
      const letters = id === END ? this.buffer.splice(0) : (this.cuts.shift() ?? [])
      if (id === END) this.bufferBytes = 0
      await this.append(letters, id === END ? 'end' : String(id))
      if (id !== END) this.lastCheckpoint = id
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

  /** Runs `fn` after every earlier log operation; a failure fails this and every later operation. */
  private serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.chain.then(async () => {
      if (this.failure !== undefined) throw this.failure
      try {
        return await fn()
      } catch (e) {
        this.failure ??= e
        throw e
      }
    })
    this.chain = run.catch(() => undefined)
    return run
  }

  private check(): Promise<void> {
    return this.serial(async () => undefined)
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

function encode(l: DeadLetter): Encoded {
  return { key: l.step, value: JSON.stringify(l), timestamp: Math.trunc(l.time) }
}

function checkRange(h: unknown, topic: string): DeadLetterRange {
  const o = h as Partial<DeadLetterRange> | null
  if (o === null || typeof o !== 'object' || o.topic !== topic || !Number.isSafeInteger(o.partition) || !Number.isSafeInteger(o.from) || !Number.isSafeInteger(o.to)) {
    throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `a checkpoint's dead-letter handle does not belong to log topic '${topic}'`, { domain: 'user', hint: 'restore with the same deadLetter options the checkpoint was taken with' })
  }
  return o as DeadLetterRange
}
