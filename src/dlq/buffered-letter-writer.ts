import type { RestoredHandle } from '../core/sink.ts'
import type { TwoPhaseCommit } from '../checkpoint/two-phase-commit.ts'
import type { LetterWriter } from './letter-writer.ts'
import type { DeadLetter } from './record.ts'

/** Header value prefix of letters spilled before their checkpoint's barrier: `after:<id>`, id the last checkpoint pre-committed or restored. */
export const SPILLED = 'after:'
/** The checkpoint id of the transaction `close` commits at the end of input (its letters' header says 'end'). */
export const END = Number.MAX_SAFE_INTEGER

/**
 * What every dead-letter writer does the same way, whatever stores the letters: buffering, the cut of each
 * checkpoint (the letters buffered when `preCommit` is called belong to it, not those added while earlier
 * work finishes), spilling into the open transaction past `spillBytes`, the at-least-once mode without
 * checkpoints, and one serial chain of store operations that a failure stops. A store adds how letters are
 * encoded and written (`write` at-least-once, `stage` into the open transaction) and its two-phase commit.
 * @example
 * class MyWriter extends BufferedLetterWriter<string> { ... }
 */
export abstract class BufferedLetterWriter<M> implements LetterWriter {
  abstract readonly topic: string
  /** Letters written so far by this writer. */
  appended = 0
  /** Receives the promise of each automatic write, so the runner can wait on it (backpressure). */
  onPending: ((p: Promise<void>) => void) | undefined = undefined
  /** The store's two-phase commit; its pre-commit takes its letters with `cut(id)`. */
  protected abstract readonly tpc: TwoPhaseCommit<unknown>
  /** The last checkpoint pre-committed (or restored): spilled letters belong to a later one. */
  protected lastCheckpoint = 0
  private buffer: M[] = []
  /** The letters of each `preCommit` called and not yet run, oldest first. */
  private readonly cuts: M[][] = []
  private bufferBytes = 0
  private readonly spillBytes: number
  private spilling = false
  private transactional: boolean
  private scheduled = false
  private chain: Promise<unknown> = Promise.resolve()
  private failure: unknown = undefined
  private closed = false

  constructor(checkpointing: boolean | undefined, spillBytes: number | undefined) {
    this.transactional = checkpointing === true
    this.spillBytes = spillBytes ?? 4 * 1024 * 1024
  }

  /** A letter as the store's record, with its size in bytes (counted towards the spill threshold). */
  protected abstract encode(letter: DeadLetter): { record: M; bytes: number }
  /** Writes letters visible at once (at-least-once, without checkpoints). */
  protected abstract write(letters: M[]): Promise<void>
  /** Writes letters into the open transaction, under the checkpoint header `checkpoint`, invisible until it commits. */
  protected abstract stage(letters: M[], checkpoint: string): Promise<void>
  /** Releases the store (connections, locks) once the writer is closed. */
  protected abstract release(): Promise<void>
  abstract committedAfter(restored: number | undefined): Promise<number>

  /** True once letters are written under checkpoints (exactly-once), false while at-least-once. */
  get checkpointing(): boolean {
    return this.transactional
  }

  /** Letters added and not yet written. */
  get buffered(): number {
    return this.buffer.length
  }

  /** Buffers a letter. Without checkpoints, a write of everything buffered follows once the current batch is done. */
  add(letter: DeadLetter): void {
    const { record, bytes } = this.encode(letter)
    this.buffer.push(record)
    if (this.transactional) {
      this.bufferBytes += bytes
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

  /** At-least-once: writes what is buffered (no-op under checkpoints, where `preCommit` writes). */
  flush(): Promise<void> {
    if (this.transactional) return this.serial(async () => undefined)
    return this.serial(() => this.write(this.buffer.splice(0)))
  }

  /**
   * Phase one at checkpoint `checkpointId`: the letters buffered at the call (not those added while earlier
   * work finishes, which belong to a later checkpoint) are written, durable but not yet visible.
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
   * Closes the writer. Without checkpoints, writes what is buffered first. Under checkpoints, `finished`
   * (all input processed) writes and commits what is left, as a final checkpoint would; a stopped or failed
   * run leaves it to the replay from the last checkpoint.
   */
  async close(finished = true): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      if (!this.transactional) await this.serial(() => this.write(this.buffer.splice(0)))
      else if (finished) {
        await this.serial(async () => {
          const h = await this.tpc.preCommit(END)
          await this.tpc.commit(END, h)
        })
      } else await this.chain.catch(() => undefined)
    } finally {
      await this.release()
    }
  }

  /**
   * The letters of the pre-commit of checkpoint `id`, staged under its header: those its `preCommit` call
   * took, or everything left at the end of input. Called by the store's pre-commit, on the serial chain.
   */
  protected async stageCut(id: number): Promise<void> {
    const letters = id === END ? this.buffer.splice(0) : (this.cuts.shift() ?? [])
    if (id === END) this.bufferBytes = 0
    if (letters.length > 0) await this.stage(letters, id === END ? 'end' : String(id))
    if (id !== END) this.lastCheckpoint = id
  }

  /** Runs `fn` after every earlier store operation; a failure fails this and every later operation. */
  protected serial<R>(fn: () => Promise<R>): Promise<R> {
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

  /** Hook run before spilled letters are staged (the log writer notes where the open transaction starts). */
  protected beforeSpill(): void {}

  /**
   * Under checkpoints, writes what is buffered now into the open transaction (a checkpointed header, not
   * committed), and hands the promise to `onPending` so the runner waits on it (backpressure).
   */
  private spill(): void {
    this.spilling = true
    // Taken now, not when the write runs: letters added meanwhile may belong to a later checkpoint.
    const letters = this.buffer.splice(0)
    this.bufferBytes = 0
    const p = this.serial(async () => {
      // A fresh start first aborts what a crashed run left (the letters spilled now must not be among them).
      await this.tpc.ensureRecovered()
      this.beforeSpill()
      await this.stage(letters, SPILLED + String(this.lastCheckpoint))
    }).finally(() => (this.spilling = false))
    if (this.onPending !== undefined) this.onPending(p)
    else p.catch(() => undefined)
  }
}
