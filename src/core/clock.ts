/** Processing time. Operators read it only through this, so tests can drive it. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/**
 * A clock that moves only when told to: for tests and the harness.
 * @example const clock = new ManualClock(0); const done = run(p, { clock }); clock.advance(60_000)
 */
export class ManualClock implements Clock {
  /**
   * The current time, epoch ms.
   * @example new ManualClock(1000).time // 1000
   */
  time: number
  constructor(start = 0) {
    this.time = start
  }
  /**
   * The current time, epoch ms.
   * @example clock.now() // 0 after new ManualClock(0)
   */
  now(): number {
    return this.time
  }
  /**
   * Moves the clock forward by `ms` and returns the new time.
   * @example clock.advance(1000) // 1000 after new ManualClock(0)
   */
  advance(ms: number): number {
    this.time += ms
    return this.time
  }
  /**
   * Sets the clock to `time` (epoch ms).
   * @example clock.set(Date.UTC(2024, 4, 1))
   */
  set(time: number): void {
    this.time = time
  }
}
