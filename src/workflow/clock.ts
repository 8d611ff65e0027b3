/**
 * The scheduler's time: reading it and waiting on it. Tests use `VirtualClock`, so no test really waits.
 * @example const clock: WorkflowClock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }
 */
export interface WorkflowClock {
  now(): number
  /** Resolves after `ms` (or at once when `signal` aborts). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/**
 * The real clock: `Date.now()` and timers. The scheduler's default.
 * @example new Scheduler(wf, { store, clock: systemWorkflowClock })
 */
export const systemWorkflowClock: WorkflowClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const t = setTimeout(done, Math.max(0, ms))
      signal?.addEventListener('abort', done, { once: true })
      function done(): void {
        clearTimeout(t)
        signal?.removeEventListener('abort', done)
        resolve()
      }
    }),
}

/**
 * Virtual time for tests: a sleep waits until nothing else is left to do (the next macrotask), then time jumps
 * to the earliest pending wake-up. Deterministic as long as tasks do no real I/O.
 * @example
 * const clock = new VirtualClock(Date.UTC(2026, 0, 2))
 * const s = new Scheduler(wf, { store, clock }) // its retries and schedule waits take no real time
 */
export class VirtualClock implements WorkflowClock {
  /**
   * The virtual time now (epoch ms); a test may set it forward.
   * @example const clock = new VirtualClock(0); clock.time = Date.UTC(2026, 0, 2) // jump a day ahead
   */
  time: number
  readonly #timers: { at: number; seq: number; fire: () => void }[] = []
  #seq = 0
  #pumping = false

  constructor(start = 0) {
    this.time = start
  }

  /**
   * The virtual time (epoch ms).
   * @example new VirtualClock(1000).now() // 1000
   */
  now(): number {
    return this.time
  }

  /**
   * Resolves after `ms` (or at once when `signal` aborts).
   * @example const clock = new VirtualClock(0); await clock.sleep(60_000); clock.now() // 60000, at once
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const timer = { at: this.time + Math.max(0, ms), seq: this.#seq++, fire: resolve }
      this.#timers.push(timer)
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.#timers.indexOf(timer)
          if (i >= 0) this.#timers.splice(i, 1)
          resolve()
        },
        { once: true },
      )
      this.#pump()
    })
  }

  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    setImmediate(() => {
      this.#pumping = false
      if (this.#timers.length === 0) return
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const t = this.#timers.shift()!
      this.time = Math.max(this.time, t.at)
      t.fire()
      if (this.#timers.length > 0) this.#pump()
    })
  }
}
