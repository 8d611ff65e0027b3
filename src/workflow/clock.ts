/** The scheduler's time: reading it and waiting on it. Tests use `VirtualClock`, so no test really waits. */
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
 */
export class VirtualClock implements WorkflowClock {
  /** The virtual time now (epoch ms); a test may set it forward. */
  time: number
  readonly #timers: { at: number; seq: number; fire: () => void }[] = []
  #seq = 0
  #pumping = false

  constructor(start = 0) {
    this.time = start
  }

  /** The virtual time (epoch ms). */
  now(): number {
    return this.time
  }

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
