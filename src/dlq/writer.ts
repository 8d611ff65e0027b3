import { SluiceError, errorMessage } from '../core/errors.ts'
import { openLog, type Log, type LogOptions, type LogRecordInput } from '../log/index.ts'
import { CHECKPOINT_HEADER, addRange, partitionCommits, readCommits, writeCommits, type TopicCommits } from './commits.ts'
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
}

/** What `preCommit` returns and `commit`/`recover` take: the offsets the checkpoint makes visible. */
export interface DeadLetterHandle {
  topic: string
  partition: number
  /** First offset this run appended under checkpoints. */
  from: number
  /** Offset after the last letter appended at or before the checkpoint. */
  to: number
}

const PARTITION = 0

/**
 * Appends dead letters to a topic of the embedded log, with the same two-phase contract as a sink
 * (SinkWriter.preCommit / commit / recover). See src/dlq/README.md for the design.
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
  private buffer: DeadLetter[] = []
  private chain: Promise<unknown> = Promise.resolve()
  private scheduled = false
  private failure: unknown = undefined
  /** Under checkpoints: the log end offset when this run started writing; undefined until recovered. */
  private txnStart: number | undefined = undefined
  private closed = false
  private transactional: boolean

  private constructor(o: DeadLetterWriterOptions, log: Log, commits: TopicCommits) {
    this.dir = o.dir
    this.topic = o.topic
    this.transactional = o.checkpointing === true
    this.log = log
    this.commits = commits
  }

  /** Opens the log (taking its lock until `close`) and creates the topic and its commit state if new. */
  static async open(o: DeadLetterWriterOptions): Promise<DeadLetterWriter> {
    const log = await openLog(o.dir, { retentionCheckMs: 0, ...o.log })
    try {
      await log.ensureTopic(o.topic, { partitions: 1 })
      let commits = await readCommits(o.dir, o.topic)
      if (commits === undefined) {
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

  /** Letters added and not yet appended. */
  get buffered(): number {
    return this.buffer.length
  }

  /** Buffers a letter. Without checkpoints, an append of everything buffered follows once the current batch is done. */
  add(letter: DeadLetter): void {
    this.buffer.push(letter)
    if (this.transactional || this.scheduled) return
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

  /** Phase one at checkpoint `checkpointId`: appends the buffered letters, durable but not yet visible. */
  preCommit(checkpointId: number): Promise<DeadLetterHandle> {
    this.transactional = true
    return this.serial(async () => {
      await this.resolve(undefined)
      await this.append(this.buffer.splice(0), String(checkpointId))
      return this.handle()
    })
  }

  /** Phase two: makes the letters of `handle` (and of earlier checkpoints of this run) visible. Idempotent. */
  commit(_checkpointId: number, handle: unknown): Promise<void> {
    return this.serial(async () => {
      const h = checkHandle(handle, this.topic)
      if (addRange(partitionCommits(this.commits, h.partition).committed, h.from, h.to)) await writeCommits(this.dir, this.commits)
    })
  }

  /**
   * On restart, before any letter is added: commits the restored checkpoint's handle (it may be
   * committed already) and aborts every checkpointed letter after it, so readers never see letters of
   * a checkpoint that did not complete. Without a restored checkpoint everything uncommitted is aborted.
   */
  recover(restored: { checkpointId: number; handle: unknown } | undefined): Promise<void> {
    this.transactional = true
    this.buffer = []
    this.txnStart = undefined
    return this.serial(() => this.resolve(restored))
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
          await this.resolve(undefined)
          await this.append(this.buffer.splice(0), 'end')
          const h = this.handle()
          if (addRange(partitionCommits(this.commits, PARTITION).committed, h.from, h.to)) await writeCommits(this.dir, this.commits)
        })
      } else {
        await this.chain.catch(() => undefined)
      }
    } finally {
      await this.log.close()
    }
  }

  private handle(): DeadLetterHandle {
    return { topic: this.topic, partition: PARTITION, from: this.txnStart!, to: this.endOffset() }
  }

  private endOffset(): number {
    return this.log.describe(this.topic).partitions[PARTITION].endOffset
  }

  /** Marks checkpointed letters up to the log end as committed (restored) or aborted, once per run. */
  private async resolve(restored: { checkpointId: number; handle: unknown } | undefined): Promise<void> {
    if (this.txnStart !== undefined) return
    const p = partitionCommits(this.commits, PARTITION)
    if (restored !== undefined && restored.handle !== undefined && restored.handle !== null) {
      const h = checkHandle(restored.handle, this.topic)
      addRange(partitionCommits(this.commits, h.partition).committed, h.from, h.to)
    }
    const end = this.endOffset()
    p.resolvedTo = Math.max(p.resolvedTo, end)
    await writeCommits(this.dir, this.commits)
    this.txnStart = end
  }

  private async append(letters: DeadLetter[], checkpoint: string | undefined): Promise<void> {
    if (letters.length === 0) return
    const headers = checkpoint === undefined ? undefined : { [CHECKPOINT_HEADER]: checkpoint }
    const records: LogRecordInput[] = letters.map((l) => ({ key: l.step, value: JSON.stringify(l), timestamp: Math.trunc(l.time), ...(headers ? { headers } : {}) }))
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

function checkHandle(h: unknown, topic: string): DeadLetterHandle {
  const o = h as Partial<DeadLetterHandle> | null
  if (o === null || typeof o !== 'object' || o.topic !== topic || !Number.isSafeInteger(o.partition) || !Number.isSafeInteger(o.from) || !Number.isSafeInteger(o.to)) {
    throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `a checkpoint's dead-letter handle does not belong to log topic '${topic}'`, { domain: 'user', hint: 'restore with the same deadLetter options the checkpoint was taken with' })
  }
  return o as DeadLetterHandle
}
