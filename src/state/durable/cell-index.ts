import type { Namespace } from '../../core/state-backend.ts'

/** What the index needs of a cached cell: where it belongs. */
export interface Indexed {
  readonly slot: { readonly no: number }
  readonly ns: Namespace
  readonly id: unknown
}

/**
 * The write-back cache's cells by state, namespace and key identity (nested maps: no key string to build
 * and hash per lookup), and in the order they were put in, which second-chance eviction walks.
 */
export class CellIndex<E extends Indexed> {
  private readonly bySlot: Map<Namespace, Map<unknown, E>>[] = []
  /** Every cell, oldest first. */
  readonly order = new Set<E>()

  get size(): number {
    return this.order.size
  }

  get(slot: number, ns: Namespace, id: unknown): E | undefined {
    return this.bySlot[slot]?.get(ns)?.get(id)
  }

  add(e: E): void {
    const spaces = (this.bySlot[e.slot.no] ??= new Map())
    let m = spaces.get(e.ns)
    if (m === undefined) spaces.set(e.ns, (m = new Map()))
    m.set(e.id, e)
    this.order.add(e)
  }

  delete(e: E): void {
    this.order.delete(e)
    const spaces = this.bySlot[e.slot.no]
    const m = spaces?.get(e.ns)
    if (m === undefined) return
    m.delete(e.id)
    if (m.size === 0) spaces.delete(e.ns)
  }

  /** Moves `e` to the end of the order (its second chance). */
  requeue(e: E): void {
    this.order.delete(e)
    this.order.add(e)
  }

  clear(): void {
    this.bySlot.length = 0
    this.order.clear()
  }
}
