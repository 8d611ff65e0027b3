import { internalError } from '../../core/errors.ts'

/**
 * Aligns a checkpoint barrier over the inputs of one vertex. Once the barrier has arrived on an input, what
 * comes after it on that input (records, watermarks, idleness) is queued; when it has arrived on every input,
 * `onAligned` runs (the vertex snapshots and passes the barrier on) and the queue is replayed in arrival order.
 * While an asynchronous `onAligned` (a sink's pre-commit) is pending, every input stays queued.
 */
export class BarrierGate {
  private readonly arrived: boolean[]
  private count = 0
  private busy = false
  private queue: (() => void)[] = []
  private firstAt = 0
  /** Time from the barrier's first input to its last, for the last alignment. */
  alignmentMs = 0

  private readonly name: string
  private readonly onAligned: () => void | Promise<void>
  private readonly onError: (e: unknown) => void

  constructor(inputs: number, name: string, onAligned: () => void | Promise<void>, onError: (e: unknown) => void) {
    this.name = name
    this.onAligned = onAligned
    this.onError = onError
    this.arrived = new Array<boolean>(Math.max(inputs, 1)).fill(false)
  }

  /** True while deliveries on `input` wait for the barrier (call `pass`); false: deliver directly. */
  blocks(input: number): boolean {
    return this.busy || this.arrived[input]
  }

  /** True between the first barrier of a checkpoint and the end of its alignment. */
  get aligning(): boolean {
    return this.count > 0 || this.busy
  }

  /** Runs `fn` (a delivery on `input`) now, or later if that input is past the barrier. */
  pass(input: number, fn: () => void): void {
    if (this.busy || this.arrived[input]) this.queue.push(fn)
    else fn()
  }

  /** The barrier arrived on `input`. */
  barrier(input: number): void {
    if (this.arrived[input]) throw internalError(`step '${this.name}' received a second barrier on input ${input}`)
    if (this.count === 0) this.firstAt = performance.now()
    this.arrived[input] = true
    if (++this.count < this.arrived.length) return
    this.alignmentMs = performance.now() - this.firstAt
    this.busy = true
    let r: void | Promise<void>
    try {
      r = this.onAligned()
    } catch (e) {
      this.onError(e)
      return
    }
    if (r instanceof Promise) r.then(() => this.release(), this.onError)
    else this.release()
  }

  private release(): void {
    this.arrived.fill(false)
    this.count = 0
    this.busy = false
    const q = this.queue
    this.queue = []
    for (const f of q) f()
  }
}

/**
 * Aligns a barrier over the N subtasks that feed one input through the main thread: what a subtask sends
 * after its barrier is queued until every subtask has sent it; then `onAll` runs and the queues are replayed.
 */
export class SubtaskBarrier {
  private readonly arrived: boolean[]
  private count = 0
  private queues: (() => void)[][]
  private firstAt = 0
  alignmentMs = 0

  constructor(subtasks: number) {
    this.arrived = new Array<boolean>(subtasks).fill(false)
    this.queues = this.arrived.map(() => [])
  }

  pass(subtask: number, fn: () => void): void {
    if (this.arrived[subtask]) this.queues[subtask].push(fn)
    else fn()
  }

  barrier(subtask: number, onAll: () => void): void {
    if (this.arrived[subtask]) throw internalError(`subtask ${subtask} sent a second barrier on one input`)
    if (this.count === 0) this.firstAt = performance.now()
    this.arrived[subtask] = true
    if (++this.count < this.arrived.length) return
    this.alignmentMs = performance.now() - this.firstAt
    onAll()
    this.arrived.fill(false)
    this.count = 0
    const qs = this.queues
    this.queues = this.arrived.map(() => [])
    for (const q of qs) for (const f of q) f()
  }
}
