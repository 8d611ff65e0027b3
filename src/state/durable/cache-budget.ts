import { getHeapStatistics } from 'node:v8'

/** What the budget asks of a cache that shares it. */
export interface CacheMember {
  /** Bytes its cells take, counted as the store holds them. */
  readonly cachedBytes: number
  /** Gives up cells (written to its store when dirty) until the budget's total is `target` or its cache is empty. */
  shrinkTo(target: number): void
}

/** The default share of the V8 heap limit the durable store's caches of one thread hold: 1/16 (75 MB under a 1 GB old generation). */
export const DEFAULT_CACHE_SHARE = 1 / 16

/**
 * The bytes the durable store's write-back caches of one thread may hold, counted as the store holds them,
 * shared by the thread's stateful steps (as RocksDB's block cache is shared by column families). A cache grows
 * while the total is under the limit; past it, the largest cache gives up cells until the total is back to
 * nine tenths of the limit. A step that goes quiet thus hands its share to busy ones, and a job's caches take the
 * same memory however many stateful steps it has. Decoded cells take several times their stored size on the heap.
 *
 * @example
 * const budget = new CacheBudget(64 * 1024 * 1024)
 * const a = new DurableStateBackend({ cache: budget })
 * const b = new DurableStateBackend({ cache: budget })
 */
export class CacheBudget {
  readonly limit: number
  /** Bytes every member's cache holds. */
  used = 0
  private readonly members = new Set<CacheMember>()

  constructor(limit: number = Math.floor(getHeapStatistics().heap_size_limit * DEFAULT_CACHE_SHARE)) {
    this.limit = Math.max(1, limit)
  }

  join(m: CacheMember): void {
    this.members.add(m)
  }

  /** `m` closed: its cache is empty and no longer shares the budget. */
  leave(m: CacheMember): void {
    this.members.delete(m)
  }

  get over(): boolean {
    return this.used >= this.limit
  }

  /** The total is over the limit: the largest caches give up cells until it is at nine tenths of it. */
  relieve(): void {
    const target = this.limit * 0.9
    const tried = new Set<CacheMember>()
    while (this.used > target) {
      let largest: CacheMember | undefined
      for (const m of this.members) if (!tried.has(m) && m.cachedBytes > 0 && (largest === undefined || m.cachedBytes > largest.cachedBytes)) largest = m
      if (largest === undefined) return
      tried.add(largest)
      largest.shrinkTo(target)
    }
  }
}
