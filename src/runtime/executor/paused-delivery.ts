import type { Operator } from '../../core/operator.ts'
import type { Pausable } from '../../operators/pausable.ts'
import { ingestion, withIngestion } from '../ingestion.ts'

/** How long the thread's steps may run before one pauses so that signals, timers and messages get in. */
export const YIELD_AFTER_MS = 50

/**
 * Keeps a thread responsive while a user function is slow, without changing what any step sees. A pausable
 * step (see `Pausable`: map / filter / flatMap chains, process functions, aggregates, windows, joins) stops
 * its batch once the thread has run for YIELD_AFTER_MS; from then on the whole delivery it was part of is
 * held in order: every delivery that would have followed (to the other consumers of the same upstream batch,
 * the rest of the upstream batch, watermarks, barriers, ends of input, records for other threads) is queued
 * instead of made. At the next turn of the event loop the paused step goes on, then the queued deliveries run
 * in their order, until none is left or a step pauses again. So the steps see records, watermarks and barriers
 * in the same order as without any pause, whatever the machine's speed; in between, only the event loop's own
 * work runs (a SIGTERM, a drain timeout, a cancel, messages, which the executor queues for later). The executor
 * does nothing else on the thread until `idle()` settles.
 * @example
 * const delivery = new PausedDelivery((e) => executor.fail(e), () => executor.notify())
 * if (isPausable(v.operator)) delivery.attach(v.operator)
 */
export class PausedDelivery {
  /** A step is paused: deliveries are queued (`defer`) instead of made. */
  paused = false
  private deadline = 0
  private queue: (() => void)[] = []
  private waiters: { resolve(): void; reject(e: unknown): void }[] = []
  private failure: unknown = undefined
  private scheduled = false
  private readonly onFail: (e: unknown) => void
  private readonly onIdle: () => void

  /** `onFail`: a step failed while going on after a pause; `onIdle`: the held delivery is done. */
  constructor(onFail: (e: unknown) => void, onIdle: () => void = () => {}) {
    this.onFail = onFail
    this.onIdle = onIdle
  }

  /** Whether a step should stop its batch now: the thread has run its time, or another step is paused. */
  readonly shouldYield = (): boolean => this.paused || performance.now() >= this.deadline

  /** The thread is back from the event loop: its steps may run for YIELD_AFTER_MS from now. */
  turn(): void {
    this.deadline = performance.now() + YIELD_AFTER_MS
  }

  /** A step is paused, or deliveries wait behind one. */
  get busy(): boolean {
    return this.paused || this.queue.length > 0
  }

  /**
   * Lets `op` pause: when a batch (or a firing of its timers, for steps that pause there too) stops part-way,
   * the thread's delivery is held behind it.
   */
  attach(op: Operator & Pausable): void {
    op.shouldYield = this.shouldYield
    const { process, onWatermark, onProcessingTime, finish } = op
    op.process = (batch, out, input) => {
      // Never a second batch into a step whose batch is stopped part-way: it waits its turn.
      if (op.pending) return this.defer(() => op.process(batch, out, input))
      process.call(op, batch, out, input)
      if (op.pending) this.hold(op)
    }
    if (onWatermark !== undefined) {
      op.onWatermark = (wm, out) => {
        const held = onWatermark.call(op, wm, out)
        // Held before the vertex forwards the watermark: the forward waits behind the firing.
        if (op.pending) this.hold(op)
        return held
      }
    }
    if (onProcessingTime !== undefined) {
      op.onProcessingTime = (now, out) => {
        onProcessingTime.call(op, now, out)
        if (op.pending) this.hold(op)
      }
    }
    if (finish !== undefined) {
      const end = (out: Parameters<typeof finish>[0]): void => {
        // The end of input right after a watermark whose firing paused: it waits for the firing to finish.
        if (op.pending) return this.defer(() => end(out))
        finish.call(op, out)
        if (op.pending) this.hold(op)
      }
      op.finish = end
    }
  }

  /** A delivery made while paused: it runs, in order, once what is ahead of it is done. */
  defer(f: () => void): void {
    this.queue.push(f)
  }

  /** Settles once no step is paused and nothing is queued; undefined (no wait at all) when nothing is. */
  idle(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (!this.busy) return undefined
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  /** The job fails or is cancelled: what is held is dropped, and whoever waits for it gets `e`. */
  abandon(e: unknown): void {
    this.failure ??= e
    this.queue = []
    // Nothing is delivered any more.
    this.paused = true
    for (const w of this.waiters.splice(0)) w.reject(this.failure)
  }

  /** `op` stopped part-way: going on with it comes first, before the deliveries made after its stop. */
  private hold(op: Pausable): void {
    // What the step emits when it goes on keeps the ingestion time of the batch it is handling.
    const at = ingestion.at
    const goOn = (): void => {
      withIngestion(at === at ? at : undefined, () => op.resume())
      if (op.pending) this.hold(op)
    }
    this.queue.push(goOn)
    this.schedule()
  }

  private schedule(): void {
    this.paused = true
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.step())
  }

  /** One turn: runs what is queued, in order, until it is done or a step pauses again. */
  private step(): void {
    this.scheduled = false
    if (this.failure !== undefined) return
    const list = this.queue
    this.queue = []
    this.paused = false
    this.turn()
    try {
      for (let k = 0; k < list.length; k++) {
        list[k]()
        if (this.paused) {
          // Paused again: what it queued comes before the rest of the list.
          for (let j = k + 1; j < list.length; j++) this.queue.push(list[j])
          return
        }
      }
    } catch (e) {
      this.abandon(e)
      this.onFail(e)
      return
    }
    // Queued without a pause (a batch for a step still paused further on): it goes on at the next turn.
    if (this.queue.length > 0) return this.schedule()
    for (const w of this.waiters.splice(0)) w.resolve()
    this.onIdle()
  }
}
