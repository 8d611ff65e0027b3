/**
 * Results by key for `ttl` ms of processing time, at most `max` keys: a hit moves the key to the back, the
 * front goes first when full (a Map keeps insertion order, so this is an LRU without a list).
 */
export class LookupCache<R> {
  private readonly ttl: number
  private readonly max: number
  private readonly entries = new Map<string, { result: R; at: number }>()
  hits = 0
  misses = 0

  constructor(ttl: number, max: number) {
    this.ttl = ttl
    this.max = max
  }

  /** The result cached for `key`, as `{ result }`, or undefined (a result may itself be undefined). */
  get(key: string, now: number): { result: R } | undefined {
    const e = this.entries.get(key)
    if (e === undefined || now - e.at >= this.ttl) {
      if (e !== undefined) this.entries.delete(key)
      this.misses++
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, e)
    this.hits++
    return e
  }

  set(key: string, result: R, now: number): void {
    this.entries.delete(key)
    this.entries.set(key, { result, at: now })
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!)
  }

  get size(): number {
    return this.entries.size
  }
}
