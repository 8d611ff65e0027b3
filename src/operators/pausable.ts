import type { Batch } from '../core/batch.ts'
import type { Operator, Output } from '../core/operator.ts'

/** Most records between two looks at the time once a batch runs fast: a look reads the clock. */
export const MAX_YIELD_STRIDE = 64

/**
 * A step whose batches can stop part-way and go on later, so that a slow user function does not hold its
 * thread for a whole batch: between the stop and `resume`, the thread's event loop serves signals, timers and
 * cancels. The step emits a batch's output once the batch is done, so batch boundaries (and what a step
 * downstream sees) do not depend on how fast the functions run.
 * @example
 * if (isPausable(op)) op.shouldYield = () => performance.now() >= deadline
 */
export interface Pausable {
  /**
   * Set by the runtime: whether the batch should stop now. Asked after 1, 3, 7, ... records of a batch, then
   * every `yieldStride` records, so a slow function is seen after one record and a fast one costs a clock
   * read per `yieldStride` records.
   */
  shouldYield: (() => boolean) | undefined
  /** The most records between two `shouldYield` calls. */
  yieldStride: number
  /** A batch is stopped part-way: `resume` goes on with it. */
  readonly pending: boolean
  /** Goes on with the stopped batch; true once it is done (and its output emitted), false if it stopped again. */
  resume(): boolean
}

/**
 * Whether an operator's batches can stop part-way (see `Pausable`).
 * @example
 * if (isPausable(v.operator)) delivery.attach(v.operator)
 */
export function isPausable(op: Operator): op is Operator & Pausable {
  return 'shouldYield' in op && typeof (op as Partial<Pausable>).resume === 'function'
}

/**
 * The bookkeeping of a pausable operator that goes over a batch record by record: the operator implements
 * `run` (its loop from record `from` on, then what ends the batch) and asks `stopAt(i, ...)` at the top of
 * each record; everything else (`process`, `resume`, `pending`) is here.
 * @example
 * class Op extends PausableBatches implements Operator {
 *   protected run(batch: Batch, out: Output, input: number, from: number): void {
 *     for (let i = from; i < batch.values.length; i++) {
 *       if (this.stopAt(i, from, batch, out, input)) return
 *       // ... record i
 *     }
 *     // ... emit the batch's output
 *   }
 * }
 */
export abstract class PausableBatches implements Pausable {
  shouldYield: (() => boolean) | undefined = undefined
  yieldStride = MAX_YIELD_STRIDE
  private stride = 1
  private left = 1
  /** How the stopped work goes on. */
  private paused: (() => void) | undefined = undefined

  get pending(): boolean {
    return this.paused !== undefined
  }

  process(batch: Batch, out: Output, input = 0): void {
    this.lookSoon()
    this.run(batch, out, input, 0)
  }

  resume(): boolean {
    const goOn = this.paused
    if (goOn === undefined) return true
    this.paused = undefined
    this.lookSoon()
    goOn()
    return this.paused === undefined
  }

  /** New work (a batch, a firing): the first look comes after one unit of it. */
  protected lookSoon(): void {
    this.stride = 1
    this.left = 1
  }

  /** Counts one unit of work done (a record, a timer); true when the work should stop here. */
  protected looked(): boolean {
    if (this.shouldYield === undefined || --this.left > 0) return false
    // Looks after 1, 3, 7, ... units: a slow function is seen at once, a fast one soon stops being looked at.
    if (this.stride < this.yieldStride) this.stride *= 2
    this.left = this.stride
    return this.shouldYield()
  }

  /** The work stopped part-way: `goOn` does the rest on `resume`. */
  protected stopped(goOn: () => void): void {
    this.paused = goOn
  }

  /** Records `from` on of `batch`, then the end of the batch; returns at once when `stopAt` says to stop. */
  protected abstract run(batch: Batch, out: Output, input: number, from: number): void

  /**
   * Before record `i` of a run that started at `from`: whether the batch stops here (the run returns at once
   * and goes on at record `i` on `resume`). A run always does at least one record.
   */
  protected stopAt(i: number, from: number, batch: Batch, out: Output, input: number): boolean {
    if (this.shouldYield === undefined || i === from || !this.looked()) return false
    this.paused = () => this.run(batch, out, input, i)
    return true
  }
}
