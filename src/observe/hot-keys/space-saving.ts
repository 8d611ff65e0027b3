/** One heavy hitter: its estimated count and how much of it may be overestimated (true count ≥ count - error). */
export interface HotKey<K> {
  key: K
  count: number
  error: number
}

/**
 * The space-saving sketch (Metwally et al.): the most frequent keys of a stream in bounded memory. It keeps at
 * most `capacity` keys; a new key replaces the least counted one and inherits its count as error. Every key
 * whose true count exceeds total / capacity is kept, and each count is over by at most total / capacity.
 * `offerBatch` first counts a batch's keys, so a batch costs one update per distinct key, not per record.
 * @example
 * const sketch = new SpaceSaving<string>(64)
 * sketch.offerBatch(['eu', 'eu', 'us'])
 * sketch.top(1) // [{ key: 'eu', count: 2, error: 0 }]
 */
export class SpaceSaving<K> {
  readonly capacity: number
  private readonly counts = new Map<K, { count: number; error: number }>()
  private seen = 0

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
  }

  /** Records offered so far. */
  get total(): number {
    return this.seen
  }

  offer(key: K, n = 1): void {
    this.seen += n
    const e = this.counts.get(key)
    if (e !== undefined) {
      e.count += n
      return
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(key, { count: n, error: 0 })
      return
    }
    let minKey: K | undefined
    let min = Infinity
    for (const [k, v] of this.counts) {
      if (v.count < min) {
        min = v.count
        minKey = k
      }
    }
    this.counts.delete(minKey as K)
    this.counts.set(key, { count: min + n, error: min })
  }

  offerBatch(keys: readonly K[]): void {
    const local = new Map<K, number>()
    for (const k of keys) local.set(k, (local.get(k) ?? 0) + 1)
    // Heavier keys first: a key of this batch then never evicts a heavier one of the same batch.
    for (const [k, n] of [...local].sort((a, b) => b[1] - a[1])) this.offer(k, n)
  }

  /** Adds another sketch's keys (a subtask's): its counts and their errors, and its total. */
  merge(other: SpaceSaving<K>): void {
    const total = this.seen + other.seen
    for (const [k, v] of [...other.counts].sort((a, b) => b[1].count - a[1].count)) {
      this.offer(k, v.count)
      const e = this.counts.get(k)
      if (e !== undefined) e.error += v.error
    }
    this.seen = total
  }

  /** The `n` most counted keys, most first. */
  top(n: number): HotKey<K>[] {
    return [...this.counts].map(([key, v]) => ({ key, count: v.count, error: v.error })).sort((a, b) => b.count - a.count).slice(0, n)
  }
}
