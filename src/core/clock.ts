/** Processing time. Operators read it only through this, so tests can drive it. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock that moves only when told to: for tests and the harness. */
export class ManualClock implements Clock {
  /** The current time, epoch ms. */
  time: number
  constructor(start = 0) {
    this.time = start
  }
  /** The current time, epoch ms. */
  now(): number {
    return this.time
  }
  /** Moves the clock forward by `ms` and returns the new time. */
  advance(ms: number): number {
    this.time += ms
    return this.time
  }
  /** Sets the clock to `time` (epoch ms). */
  set(time: number): void {
    this.time = time
  }
}
