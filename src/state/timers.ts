import type { TimerService } from '../core/state-backend.ts'

/**
 * Timers of a keyed operator on the heap: (time, key) pairs, each registered at most once. Keys that share
 * a time (every key's window ending at the same instant) share one heap entry; keys of one time fire in the
 * order they were registered.
 */
export class TimerQueue implements TimerService {
  private readonly byTime = new Map<number, Map<unknown, unknown>>()
  private readonly heap: number[] = []

  get size(): number {
    return this.byTime.size
  }

  /** Registers a timer for `keyId` (the map key) carrying the original `key`. */
  register(time: number, keyId: unknown, key: unknown = keyId): void {
    let keys = this.byTime.get(time)
    if (keys === undefined) {
      keys = new Map()
      this.byTime.set(time, keys)
      this.push(time)
    }
    keys.set(keyId, key)
  }

  delete(time: number, keyId: unknown): void {
    this.byTime.get(time)?.delete(keyId)
  }

  /** The earliest registered time, or +Infinity. */
  peek(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0]
  }

  /** Removes and returns the timers of the earliest time if it is at or before `upTo`. */
  pollUpTo(upTo: number): { time: number; keys: Map<unknown, unknown> } | undefined {
    while (this.heap.length > 0 && this.heap[0] <= upTo) {
      const time = this.pop()
      const keys = this.byTime.get(time)
      this.byTime.delete(time)
      if (keys !== undefined && keys.size > 0) return { time, keys }
    }
    return undefined
  }

  close(): void {}

  snapshot(): [number, [unknown, unknown][]][] {
    return [...this.byTime].map(([t, keys]) => [t, [...keys]])
  }

  restore(entries: [number, [unknown, unknown][]][]): void {
    this.byTime.clear()
    this.heap.length = 0
    for (const [t, keys] of entries) for (const [id, k] of keys) this.register(t, id, k)
  }

  private push(t: number): void {
    const h = this.heap
    let i = h.push(t) - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (h[p] <= t) break
      h[i] = h[p]
      i = p
    }
    h[i] = t
  }

  private pop(): number {
    const h = this.heap
    const top = h[0]
    const last = h.pop()!
    if (h.length > 0) {
      let i = 0
      const n = h.length
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        const c = r < n && h[r] < h[l] ? r : l
        if (h[c] >= last) break
        h[i] = h[c]
        i = c
      }
      h[i] = last
    }
    return top
  }
}
