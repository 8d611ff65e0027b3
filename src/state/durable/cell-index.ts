import type { Namespace } from '../../core/state-backend.ts'

/** What the index needs of a cached cell: where it belongs, its place in the ring and its second chance. */
export interface Indexed {
  readonly slot: { readonly no: number }
  readonly ns: Namespace
  readonly id: unknown
  /** Its place in the ring (set by the index). */
  at: number
  /** Used since the clock hand last passed it. */
  hot: boolean
}

/**
 * The write-back cache's cells by state, namespace and key identity (nested maps: no key string to build
 * and hash per lookup), and a ring of them that second-chance ("clock") eviction walks: the hand skips a
 * cell used since it last passed (taking its mark away) and gives up the others. A freed place in the ring
 * is taken by the next cell added, so adding and removing cost an array write, not a set's hashing.
 */
export class CellIndex<E extends Indexed> {
  private readonly bySlot: Map<Namespace, Map<unknown, E>>[] = []
  private ring: (E | undefined)[] = []
  private free: number[] = []
  private hand = 0
  private count = 0

  get size(): number {
    return this.count
  }

  get(slot: number, ns: Namespace, id: unknown): E | undefined {
    return this.bySlot[slot]?.get(ns)?.get(id)
  }

  add(e: E): void {
    const spaces = (this.bySlot[e.slot.no] ??= new Map())
    let m = spaces.get(e.ns)
    if (m === undefined) spaces.set(e.ns, (m = new Map()))
    m.set(e.id, e)
    const at = this.free.pop()
    if (at === undefined) {
      e.at = this.ring.length
      this.ring.push(e)
    } else {
      e.at = at
      this.ring[at] = e
    }
    this.count++
  }

  delete(e: E): void {
    const spaces = this.bySlot[e.slot.no]
    const m = spaces?.get(e.ns)
    if (m === undefined || m.get(e.id) !== e) return
    m.delete(e.id)
    if (m.size === 0) spaces.delete(e.ns)
    this.ring[e.at] = undefined
    this.free.push(e.at)
    this.count--
  }

  /**
   * Removes cells until at most `target` remain, giving each used cell one more pass; calls `out` with each
   * cell removed. Stops after two turns of the ring at most.
   */
  evict(target: number, out: (e: E) => void): void {
    const ring = this.ring
    let steps = 2 * ring.length
    while (this.count > target && steps-- > 0) {
      if (this.hand >= ring.length) this.hand = 0
      const e = ring[this.hand++]
      if (e === undefined) continue
      if (e.hot) e.hot = false
      else {
        this.delete(e)
        out(e)
      }
    }
  }

  clear(): void {
    this.bySlot.length = 0
    this.ring = []
    this.free = []
    this.hand = 0
    this.count = 0
  }
}
