import type { StateBackend, StateDescriptor, ValueState } from '../core/state-backend.ts'

/**
 * An operator's per-key entries (a key's windows, a join's buffers) in a value state of the step's
 * backend, changed in place while a batch runs and written back once at its end (`flush`). On a backend
 * that holds values as given (the heap) there is nothing to write back: `get` returns the stored object and
 * only new and removed entries reach the store, so the heap path costs one map lookup per record.
 *
 * @example
 * const windows = new EntryCache<KeyWindows>(ctx.state, { name: 'windows', codec: 'v8' })
 * const e = windows.get(id) ?? windows.add(id, { key, slots: [] })
 * e.slots.push(slot) // changed in place
 * windows.flush()    // at the end of the batch: the durable store gets the changed entries
 */
export class EntryCache<E> {
  readonly state: ValueState<E>
  private readonly holds: boolean
  /** Entries read or added since the last flush (backends that copy values only). */
  private readonly touched = new Map<unknown, E>()

  constructor(backend: StateBackend, descriptor: StateDescriptor) {
    this.state = backend.value<E>(descriptor)
    this.holds = backend.holdsValues
  }

  /** The entry of `id`, to change in place until the next flush. */
  get(id: unknown): E | undefined {
    if (this.holds) return this.state.get(id)
    let e = this.touched.get(id)
    if (e === undefined) {
      e = this.state.get(id)
      if (e !== undefined) this.touched.set(id, e)
    }
    return e
  }

  /** Stores a new entry for `id` and returns it. */
  add(id: unknown, e: E): E {
    if (this.holds) this.state.set(id, e)
    else this.touched.set(id, e)
    return e
  }

  /** Marks `id`'s entry as changed outside a `get` (backends that copy values write it at the flush). */
  changed(id: unknown, e: E): void {
    if (this.holds) return
    this.touched.set(id, e)
  }

  delete(id: unknown): void {
    if (!this.holds) this.touched.delete(id)
    this.state.delete(id)
  }

  /** Writes back what changed since the last flush. */
  flush(): void {
    if (this.touched.size === 0) return
    for (const [id, e] of this.touched) this.state.set(id, e)
    this.touched.clear()
  }

  /** Forgets entries read but not written back (a restore replaces the state). */
  reset(): void {
    this.touched.clear()
  }
}
