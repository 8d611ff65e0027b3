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

/** SameValueZero, as Map keys compare: key identities are primitives. */
const sameId = (a: unknown, b: unknown): boolean => a === b || (a !== a && b !== b)

/**
 * The write-back cache's cells by state, namespace and key identity (nested maps: no key string to build
 * and hash per lookup; a namespace holding one cell holds it without a map, as each page of a join's rows has a
 * namespace of its own), and a ring of them that second-chance ("clock") eviction walks: the hand skips a
 * cell used since it last passed (taking its mark away) and gives up the others. A freed place in the ring
 * is taken by the next cell added, so adding and removing cost an array write, not a set's hashing.
 */
export class CellIndex<E extends Indexed> {
  private readonly bySlot: Map<Namespace, E | Map<unknown, E>>[] = []
  private ring: (E | undefined)[] = []
  private free: number[] = []
  private hand = 0
  private count = 0

  get size(): number {
    return this.count
  }

  get(slot: number, ns: Namespace, id: unknown): E | undefined {
    const v = this.bySlot[slot]?.get(ns)
    if (v === undefined) return undefined
    if (v instanceof Map) return v.get(id)
    return sameId(v.id, id) ? v : undefined
  }

  /** Adds a cell the index does not hold (a cell of the same place is replaced). */
  add(e: E): void {
    const spaces = (this.bySlot[e.slot.no] ??= new Map())
    const v = spaces.get(e.ns)
    if (v instanceof Map) v.set(e.id, e)
    else if (v === undefined || sameId(v.id, e.id)) spaces.set(e.ns, e)
    else spaces.set(e.ns, new Map<unknown, E>([[v.id, v], [e.id, e]]))
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
    const v = spaces?.get(e.ns)
    if (v === undefined) return
    if (v instanceof Map) {
      if (v.get(e.id) !== e) return
      v.delete(e.id)
      if (v.size === 0) spaces.delete(e.ns)
    } else if (v === e) spaces.delete(e.ns)
    else return
    this.ring[e.at] = undefined
    this.free.push(e.at)
    this.count--
  }

  /**
   * Removes cells while `more()` holds, giving each used cell one more pass; calls `out` with each cell
   * removed. Stops after two turns of the ring at most.
   */
  evict(more: () => boolean, out: (e: E) => void): void {
    const ring = this.ring
    let steps = 2 * ring.length
    while (this.count > 0 && more() && steps-- > 0) {
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

  /** Calls `fn` with every cell held. */
  forEach(fn: (e: E) => void): void {
    for (const e of this.ring) if (e !== undefined) fn(e)
  }

  clear(): void {
    this.bySlot.length = 0
    this.ring = []
    this.free = []
    this.hand = 0
    this.count = 0
  }
}
