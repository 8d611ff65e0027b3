import { systemClock, type Clock } from '../../core/clock.ts'

/**
 * The run's processing-time clock as worker threads see it: the system clock where the run uses it, otherwise a
 * mirror of thread 0's injected clock (a test's ManualClock) through shared memory, written by thread 0 as its
 * loop turns.
 */
export class SharedClock {
  readonly buffer: SharedArrayBuffer | undefined
  private readonly view: Float64Array | undefined
  private readonly source: Clock

  constructor(source: Clock) {
    this.source = source
    if (source !== systemClock) {
      this.buffer = new SharedArrayBuffer(8)
      this.view = new Float64Array(this.buffer)
      this.view[0] = source.now()
    }
  }

  /** Thread 0: publishes the injected clock's time. */
  publish(): void {
    if (this.view !== undefined) this.view[0] = this.source.now()
  }

  /** A worker's clock for `buffer` (undefined: the system clock). */
  static reader(buffer: SharedArrayBuffer | undefined): Clock {
    if (buffer === undefined) return systemClock
    const view = new Float64Array(buffer)
    return { now: () => view[0] }
  }
}
