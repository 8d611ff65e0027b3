/** Processing time. Operators read it only through this, so tests can drive it. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock that moves only when told to: for tests and the harness. */
export class ManualClock implements Clock {
  time: number
  constructor(start = 0) {
    this.time = start
  }
  now(): number {
    return this.time
  }
  advance(ms: number): number {
    this.time += ms
    return this.time
  }
  set(time: number): void {
    this.time = time
  }
}
