import type { AggregatingState, ListState, MapState, Namespace, StateAggregate, ValueState } from '../core/state-backend.ts'
import type { Cell, CellTable, StateSlot } from './cells.ts'
import { dropExpiredElements, expiryAt } from './cells.ts'

/** What the handles need from their backend: the tables, the TTL clock and the write counter. */
export interface HandleHost {
  table(slot: StateSlot, ns: Namespace): CellTable
  /** The time a state's TTL is counted in: processing time, or the watermark (-Infinity before the first). */
  now(slot: StateSlot): number
  /** Called after each write to a TTL state (drives incremental cleanup). */
  wrote(): void
}

const NONE: readonly never[] = Object.freeze([])

/*
 * Each handle works on one CellTable. Without TTL the hot path is one table lookup; with TTL, reads
 * check (and may refresh) the expiry, and an expired cell is removed as soon as it is seen.
 */

export function valueHandle<T>(host: HandleHost, slot: StateSlot, ns: Namespace): ValueState<T> {
  return new ValueHandle<T>(host, slot, ns)
}

/** A value state's handle: methods on the prototype, so a handle per namespace (a join page's) is one allocation. */
class ValueHandle<T> implements ValueState<T> {
  private readonly host: HandleHost
  private readonly slot: StateSlot
  private readonly t: CellTable
  private readonly ttl: number

  constructor(host: HandleHost, slot: StateSlot, ns: Namespace) {
    this.host = host
    this.slot = slot
    this.t = host.table(slot, ns)
    this.ttl = slot.ttl
  }

  get(id: unknown): T | undefined {
    const c = this.t.get(id)
    if (c === undefined) return undefined
    if (this.ttl !== 0) {
      const now = this.host.now(this.slot)
      if (c.e <= now) {
        this.t.delete(id)
        return undefined
      }
      if (this.slot.refreshOnRead) {
        c.e = expiryAt(now, this.ttl)
        this.t.touch(id, c)
      }
    }
    return c.v as T
  }

  set(id: unknown, value: T): void {
    const t = this.t
    const ttl = this.ttl
    const c = t.get(id)
    const e = ttl === 0 ? Infinity : expiryAt(this.host.now(this.slot), ttl)
    if (c === undefined) t.put(id, { v: value, e })
    else {
      c.v = value
      c.e = e
      t.touch(id, c)
    }
    if (ttl !== 0) this.host.wrote()
  }

  delete(id: unknown): void {
    this.t.delete(id)
  }

  namespace(n: Namespace): ValueState<T> {
    return new ValueHandle<T>(this.host, this.slot, n)
  }
}

export function aggregatingHandle<T, A, R>(host: HandleHost, slot: StateSlot, ns: Namespace, fn: StateAggregate<T, A, R>): AggregatingState<T, R> {
  const t = host.table(slot, ns)
  const ttl = slot.ttl
  const refresh = slot.refreshOnRead
  const live = (id: unknown): Cell | undefined => {
    const c = t.get(id)
    if (c === undefined || ttl === 0) return c
    const now = host.now(slot)
    if (c.e <= now) {
      t.delete(id)
      return undefined
    }
    return c
  }
  return {
    get(id) {
      const c = live(id)
      if (c === undefined) return undefined
      if (refresh) {
        c.e = expiryAt(host.now(slot), ttl)
        t.touch(id, c)
      }
      return fn.result(c.v as A)
    },
    add(id, value) {
      const c = live(id)
      const e = ttl === 0 ? Infinity : expiryAt(host.now(slot), ttl)
      if (c === undefined) t.put(id, { v: fn.add(fn.create(), value), e })
      else {
        c.v = fn.add(c.v as A, value)
        c.e = e
        t.touch(id, c)
      }
      if (ttl !== 0) host.wrote()
    },
    clear(id) {
      t.delete(id)
    },
    namespace: (n) => aggregatingHandle(host, slot, n, fn),
  }
}

export function listHandle<T>(host: HandleHost, slot: StateSlot, ns: Namespace): ListState<T> {
  const t = host.table(slot, ns)
  const ttl = slot.ttl
  const refresh = slot.refreshOnRead
  /** Drops expired elements in place; returns the cell, or undefined when nothing is left. */
  const live = (id: unknown, now: number): Cell | undefined => {
    const c = t.get(id)
    if (c === undefined || ttl === 0) return c
    const vs = c.v as T[]
    if (c.e === null) c.e = vs.map(() => Infinity)
    const before = vs.length
    const w = dropExpiredElements(vs, c.e as number[], now)
    if (w === 0) {
      t.delete(id)
      return undefined
    }
    if (w !== before) t.touch(id, c)
    return c
  }
  return {
    get(id) {
      if (ttl === 0) return (t.get(id)?.v as T[] | undefined) ?? NONE
      const now = host.now(slot)
      const c = live(id, now)
      if (c === undefined) return NONE
      if (refresh) {
        ;(c.e as number[]).fill(expiryAt(now, ttl))
        t.touch(id, c)
      }
      return c.v as T[]
    },
    add(id, value) {
      if (ttl === 0) {
        const c = t.get(id)
        if (c === undefined) t.put(id, { v: [value], e: null })
        else {
          ;(c.v as T[]).push(value)
          t.touch(id, c)
        }
        return
      }
      const now = host.now(slot)
      const c = live(id, now)
      if (c === undefined) t.put(id, { v: [value], e: [expiryAt(now, ttl)] })
      else {
        ;(c.v as T[]).push(value)
        ;(c.e as number[]).push(expiryAt(now, ttl))
        t.touch(id, c)
      }
      host.wrote()
    },
    set(id, values) {
      if (values.length === 0) {
        t.delete(id)
        return
      }
      const e = ttl === 0 ? null : values.map(() => expiryAt(host.now(slot), ttl))
      const c = t.get(id)
      if (c === undefined) t.put(id, { v: values.slice(), e })
      else {
        c.v = values.slice()
        c.e = e
        t.touch(id, c)
      }
      if (ttl !== 0) host.wrote()
    },
    clear(id) {
      t.delete(id)
    },
    namespace: (n) => listHandle<T>(host, slot, n),
  }
}

export function mapHandle<K, V>(host: HandleHost, slot: StateSlot, ns: Namespace): MapState<K, V> {
  const t = host.table(slot, ns)
  const ttl = slot.ttl
  const refresh = slot.refreshOnRead
  const expiries = (c: Cell): Map<K, number> => {
    if (c.e === null) c.e = new Map([...(c.v as Map<K, V>).keys()].map((f) => [f, Infinity]))
    return c.e as Map<K, number>
  }
  const drop = (id: unknown, c: Cell, field: K): void => {
    ;(c.v as Map<K, V>).delete(field)
    ;(c.e as Map<K, number> | null)?.delete(field)
    if ((c.v as Map<K, V>).size === 0) t.delete(id)
    else t.touch(id, c)
  }
  return {
    get(id, field) {
      const c = t.get(id)
      if (c === undefined) return undefined
      if (ttl === 0) return (c.v as Map<K, V>).get(field)
      const es = expiries(c)
      const e = es.get(field)
      if (e === undefined) return undefined
      const now = host.now(slot)
      if (e <= now) {
        drop(id, c, field)
        return undefined
      }
      if (refresh) {
        es.set(field, expiryAt(now, ttl))
        t.touch(id, c)
      }
      return (c.v as Map<K, V>).get(field)
    },
    set(id, field, value) {
      const c = t.get(id)
      if (c === undefined) {
        t.put(id, { v: new Map([[field, value]]), e: ttl === 0 ? null : new Map([[field, expiryAt(host.now(slot), ttl)]]) })
      } else {
        ;(c.v as Map<K, V>).set(field, value)
        if (ttl !== 0) expiries(c).set(field, expiryAt(host.now(slot), ttl))
        t.touch(id, c)
      }
      if (ttl !== 0) host.wrote()
    },
    delete(id, field) {
      const c = t.get(id)
      if (c !== undefined && (c.v as Map<K, V>).has(field)) drop(id, c, field)
    },
    entries(id) {
      const c = t.get(id)
      if (c === undefined) return NONE
      if (ttl === 0) return (c.v as Map<K, V>).entries()
      const now = host.now(slot)
      const fields = c.v as Map<K, V>
      const es = expiries(c)
      let changed = false
      for (const [f, e] of es) {
        if (e <= now) {
          es.delete(f)
          fields.delete(f)
          changed = true
        } else if (refresh) {
          es.set(f, expiryAt(now, ttl))
          changed = true
        }
      }
      if (fields.size === 0) {
        t.delete(id)
        return NONE
      }
      if (changed) t.touch(id, c)
      return [...fields]
    },
    clear(id) {
      t.delete(id)
    },
    namespace: (n) => mapHandle<K, V>(host, slot, n),
  }
}
