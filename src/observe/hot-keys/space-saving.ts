/** One heavy hitter: its estimated count and how much of it may be overestimated (true count ≥ count - error). */
export interface HotKey<K> {
  key: K
  count: number
  error: number
}

/** A kept key and its counts. */
interface Slot<K> {
  key: K
  count: number
  error: number
}

/** How a sketch samples the keys of large streams (see `SpaceSaving`). */
export interface SamplingOptions {
  /** Records counted one by one before sampling starts (default: all of them, no sampling). */
  exactFor?: number
  /** Then one record in this many on average is counted, as this many (default 8). */
  every?: number
}

/**
 * The space-saving sketch (Metwally et al.): the most frequent keys of a stream in bounded memory. It keeps at
 * most `capacity` keys; a new key replaces the least counted one and inherits its count as error. Every key
 * whose true count exceeds total / capacity is kept, and each count is over by at most total / capacity.
 * `offerBatch` first counts a batch's keys, so a batch costs one update per distinct key, not per record.
 *
 * With `sampling`, a stream longer than `exactFor` records is sampled: `offerBatch` then counts one record in
 * `every` (the gaps drawn at random between 1 and 2 × every - 1, so that keys repeating in a cycle are not
 * aliased) as `every` records, and skips the rest without looking at them. Counts become estimates (a key
 * with a share p of n sampled records is off by about √(p·n·every)); `total` stays exact.
 * @example
 * const sketch = new SpaceSaving<string>(64)
 * sketch.offerBatch(['eu', 'eu', 'us'])
 * sketch.top(1) // [{ key: 'eu', count: 2, error: 0 }]
 */
export class SpaceSaving<K> {
  readonly capacity: number
  private readonly counts = new Map<K, Slot<K>>()
  /** The entries of `counts`, in an array. */
  private readonly slots: Slot<K>[] = []
  private seen = 0
  private readonly exactFor: number
  private readonly every: number
  /** Records of the next batch to skip before the next sampled one. */
  private skip = 0
  /** xorshift32 state for the gaps: deterministic, so a run's figures do not depend on Math.random. */
  private rng = 0x9e3779b9

  constructor(capacity: number, sampling: SamplingOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    const every = sampling.every ?? 8
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`sampling.every must be a positive integer, got ${every}`)
    this.capacity = capacity
    this.exactFor = sampling.exactFor ?? Infinity
    this.every = every
  }

  /** Records offered so far. */
  get total(): number {
    return this.seen
  }

  offer(key: K, n = 1): void {
    this.seen += n
    this.add(key, n)
  }

  private add(key: K, n: number): void {
    const e = this.counts.get(key)
    if (e !== undefined) {
      e.count += n
      return
    }
    if (this.counts.size < this.capacity) {
      const entry = { key, count: n, error: 0 }
      this.counts.set(key, entry)
      this.slots.push(entry)
      return
    }
    // The least counted key makes room: a scan of an array of entries, without iterating the map (an array per entry).
    const slots = this.slots
    let least = slots[0]
    for (let i = 1; i < slots.length; i++) if (slots[i].count < least.count) least = slots[i]
    const min = least.count
    this.counts.delete(least.key)
    least.key = key
    least.count = min + n
    least.error = min
    this.counts.set(key, least)
  }

  offerBatch(keys: readonly K[]): void {
    if (this.seen >= this.exactFor && this.every > 1) return this.sample(keys)
    const local = new Map<K, number>()
    for (const k of keys) local.set(k, (local.get(k) ?? 0) + 1)
    // Heavier keys first: a key of this batch then never evicts a heavier one of the same batch.
    for (const [k, n] of [...local].sort((a, b) => b[1] - a[1])) this.offer(k, n)
  }

  private sample(keys: readonly K[]): void {
    const n = keys.length
    const every = this.every
    let i = this.skip
    let x = this.rng
    for (; i < n; ) {
      this.add(keys[i], every)
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      // A gap between 1 and 2 * every - 1: every on average.
      i += 1 + ((x >>> 0) % (2 * every - 1))
    }
    this.rng = x
    this.skip = i - n
    this.seen += n
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
