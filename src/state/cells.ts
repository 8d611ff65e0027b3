import type { Namespace, SnapshotEntry, StateKind } from '../core/state-backend.ts'
import type { StateCodec } from '../core/state-codec.ts'
import { copyThrough } from '../core/state-codec.ts'

/**
 * What a backend stores per key and namespace of one state. `v` is the value (value and aggregating
 * state), the elements (list) or a Map of fields (map); `e` is the expiry: a time (Infinity = never)
 * for value and aggregating state, a parallel array of times for a list, a Map of times per field
 * for a map, or null when the state has no TTL.
 */
export interface Cell {
  v: any
  e: any
}

/** One state as a backend knows it. */
export interface StateSlot {
  readonly no: number
  /** `kind:name`: the key in sizes() and snapshots. */
  readonly id: string
  readonly kind: StateKind
  readonly name: string
  readonly codec: StateCodec
  /** TTL in milliseconds; 0 = none. */
  ttl: number
  /** The TTL is counted in event time (the step's watermark) rather than processing time. */
  eventTime: boolean
  refreshOnRead: boolean
  /** Registered by a restore, from the snapshot's description: the step's own declaration may still set its TTL. */
  restored?: boolean
  handle?: unknown
}

/** A state's cells in one namespace, as the handles see them. */
export interface CellTable {
  get(id: unknown): Cell | undefined
  /** Stores a new cell. */
  put(id: unknown, cell: Cell): void
  /** Records that a stored cell changed in place. */
  touch(id: unknown, cell: Cell): void
  delete(id: unknown): void
}

/** When an entry written at `now` expires: never while the time has not started (event time before a watermark). */
export function expiryAt(now: number, ttl: number): number {
  return now === -Infinity ? Infinity : now + ttl
}

export type PurgeResult = 0 | 1 | 2
export const KEEP: PurgeResult = 0
export const CHANGED: PurgeResult = 1
export const EMPTY: PurgeResult = 2

/** Removes list elements whose expiry is at or before `now`, in place (values and expiries together); returns how many remain. */
export function dropExpiredElements(vs: unknown[], es: number[], now: number): number {
  let w = 0
  for (let i = 0; i < vs.length; i++) {
    if (es[i] > now) {
      vs[w] = vs[i]
      es[w] = es[i]
      w++
    }
  }
  vs.length = w
  es.length = w
  return w
}

/**
 * Removes what expired by `now` from a cell of a TTL state, and starts the clock of entries that have
 * none yet (restored from a state without TTL).
 */
export function purge(slot: StateSlot, c: Cell, now: number): PurgeResult {
  const until = expiryAt(now, slot.ttl)
  if (slot.kind === 'value' || slot.kind === 'aggregating') {
    if (c.e <= now) return EMPTY
    if (c.e === Infinity) {
      c.e = until
      return CHANGED
    }
    return KEEP
  }
  if (slot.kind === 'list') {
    const vs = c.v as unknown[]
    if (c.e === null) {
      c.e = vs.map(() => until)
      return vs.length === 0 ? EMPTY : CHANGED
    }
    const before = vs.length
    const es = c.e as number[]
    const w = dropExpiredElements(vs, es, now)
    if (w === 0) return EMPTY
    const started = startClocks(es, until)
    return w === before && !started ? KEEP : CHANGED
  }
  const fields = c.v as Map<unknown, unknown>
  if (c.e === null) {
    c.e = new Map([...fields.keys()].map((f) => [f, until]))
    return fields.size === 0 ? EMPTY : CHANGED
  }
  const es = c.e as Map<unknown, number>
  let changed = false
  for (const [f, t] of es) {
    if (t <= now) {
      es.delete(f)
      fields.delete(f)
      changed = true
    } else if (t === Infinity && until !== Infinity) {
      es.set(f, until)
      changed = true
    }
  }
  return fields.size === 0 ? EMPTY : changed ? CHANGED : KEEP
}

/** Gives elements without an expiry (kept from before a TTL, or from before the first watermark) one; whether any had none. */
function startClocks(es: number[], until: number): boolean {
  if (until === Infinity) return false
  let any = false
  for (let i = 0; i < es.length; i++) {
    if (es[i] === Infinity) {
      es[i] = until
      any = true
    }
  }
  return any
}

/** Whether a cell holds nothing visible (so it can be dropped). */
export function isEmpty(kind: StateKind, c: Cell): boolean {
  if (kind === 'list') return (c.v as unknown[]).length === 0
  if (kind === 'map') return (c.v as Map<unknown, unknown>).size === 0
  return false
}

/** A cell as plain data, `[value, expiry]` of a snapshot entry, sharing structure with the cell. */
export function toWire(slot: StateSlot, c: Cell): [unknown, SnapshotEntry[3]] {
  switch (slot.kind) {
    case 'list':
      return [c.v, slot.ttl === 0 || c.e === null ? null : c.e]
    case 'map': {
      const fields = [...(c.v as Map<unknown, unknown>)]
      if (slot.ttl === 0 || c.e === null) return [fields, null]
      const es = c.e as Map<unknown, number>
      return [fields, fields.map(([f]) => es.get(f) ?? null)]
    }
    default:
      return [c.v, slot.ttl === 0 || c.e === Infinity ? null : (c.e as number)]
  }
}

/** A cell from plain data (taken over, not copied). Expiries are dropped when the state has no TTL. */
export function fromWire(slot: StateSlot, v: unknown, e: SnapshotEntry[3]): Cell {
  const ttl = slot.ttl !== 0
  switch (slot.kind) {
    case 'list': {
      const vs = v as unknown[]
      return { v: vs, e: ttl && Array.isArray(e) ? e.map((t) => t ?? Infinity) : null }
    }
    case 'map': {
      const fields = v as [unknown, unknown][]
      return { v: new Map(fields), e: ttl && Array.isArray(e) ? new Map(fields.map(([f], i) => [f, e[i] ?? Infinity])) : null }
    }
    default:
      return { v, e: ttl && typeof e === 'number' ? e : Infinity }
  }
}

/** A snapshot entry holding its own copy of the cell's data (as it would come back from disk). */
export function snapshotEntry(slot: StateSlot, ns: Namespace, id: unknown, c: Cell): SnapshotEntry {
  const w = toWire(slot, c)
  return [id, ns, copyThrough(slot.codec, w[0]), Array.isArray(w[1]) ? w[1].slice() : w[1]]
}
