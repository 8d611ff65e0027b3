import type { Duration } from './duration.ts'
import type { StateCodec } from './state-codec.ts'

/**
 * Keyed state of one step, behind one interface so that the durable backend can replace the heap.
 *
 * Every handle is addressed by the key's identity (see `keyId` in core/key.ts). State lives in a
 * namespace: the default namespace `''` for plain keyed state, or any other string or number (a
 * window, say) so that window contents live in the same store. `handle.namespace(ns)` returns a view
 * of the same state bound to `ns`; the handle itself works on the default namespace.
 *
 * @example
 * const sum = backend.value<number>({ name: 'sum', ttl: { ttl: '1h', update: 'on-write' } })
 * sum.set(userId, (sum.get(userId) ?? 0) + amount)
 * const pane = backend.list<Click>('pane').namespace(windowEnd) // the window's contents
 * pane.add(userId, click)
 */

/** A namespace under a key: `''` is the default; windows use their end time or an id string. */
export type Namespace = string | number

/**
 * How long an entry lives after it was written (or also read), and what readers see after that.
 * @example keyed.process({ processElement(v, ctx) { ctx.state.value<number>({ name: 'last-seen', ttl: { ttl: '1h', time: 'event' } }).set(ctx.timestamp) } })
 */
export interface StateTtl {
  ttl: Duration
  /**
   * The time `ttl` is counted in: `processing` (default, the run's clock, as Flink's state TTL) or `event`: an
   * entry written when the step's watermark was W expires once the watermark passes W + ttl, so a replay of the
   * same input expires the same entries (entries written before the first watermark start their time at it).
   */
  time?: 'processing' | 'event'
  /** `on-write` (default): the clock restarts when the entry is written; `on-read-and-write`: also when read. */
  update?: 'on-write' | 'on-read-and-write'
  /** Expired entries are never returned, even before cleanup has removed them. */
  visibility?: 'never-return-expired'
}

/**
 * Names a state and says how its values are encoded and when they expire.
 * @example keyed.process({ processElement(v, ctx) { ctx.state.value<number>({ name: 'seen', ttl: { ttl: '1h' } }).set(ctx.timestamp) } })
 */
export interface StateDescriptor {
  name: string
  /** How values are encoded in the durable store and in snapshots: `json` (default), `v8` (structured clone: Map, Date, bigint...) or a custom codec. */
  codec?: 'json' | 'v8' | StateCodec
  ttl?: StateTtl
}

export interface ValueState<T> {
  get(key: unknown): T | undefined
  set(key: unknown, value: T): void
  delete(key: unknown): void
  /** The same state in namespace `ns`. */
  namespace(ns: Namespace): ValueState<T>
}

/** Map fields are primitives (string, number, boolean). */
export interface MapState<K, V> {
  get(key: unknown, field: K): V | undefined
  set(key: unknown, field: K, value: V): void
  delete(key: unknown, field: K): void
  entries(key: unknown): Iterable<[K, V]>
  clear(key: unknown): void
  namespace(ns: Namespace): MapState<K, V>
}

export interface ListState<T> {
  get(key: unknown): readonly T[]
  add(key: unknown, value: T): void
  set(key: unknown, values: T[]): void
  clear(key: unknown): void
  namespace(ns: Namespace): ListState<T>
}

/** The subset of an aggregate function that aggregating state needs (the operators' AggregateFunction fits). */
export interface StateAggregate<T, A, R> {
  create(): A
  add(acc: A, value: T): A
  result(acc: A): R
}

/** Keeps only an accumulator per key: `add` folds a value in, `get` returns the result. */
export interface AggregatingState<T, R> {
  get(key: unknown): R | undefined
  add(key: unknown, value: T): void
  clear(key: unknown): void
  namespace(ns: Namespace): AggregatingState<T, R>
}

export type StateKind = 'value' | 'map' | 'list' | 'aggregating'

/** Entries per state, and what makes state grow without bound. */
export interface StateStats {
  backend: string
  states: Record<string, { kind: StateKind; entries: number; ttlMs: number | null }>
  /** Entries (key and namespace pairs) in all states. */
  entries: number
  /** Entries in states without a TTL: the ones nothing but the operator will ever remove. */
  entriesWithoutTtl: number
  /** Bytes the store holds on disk (durable backends only). */
  bytes?: number
  /** Entries held in the write-back cache (durable backends only). */
  cached?: number
}

/** Keys and bytes of keyed state per key group (index: key group). */
export interface KeyGroupSizes {
  keys: number[]
  bytes: number[]
}

/** Key groups a restore should take: a list, or a range `[start, end)`. */
export type KeyGroupSelection = Iterable<number> | { start: number; end: number }

export interface StateBackend {
  readonly kind: string
  /**
   * Whether `get` hands back the very object `set` stored (the heap backend), so a value changed in place
   * needs no `set`. Otherwise (the durable backend) a changed value must be `set` again to be kept.
   */
  readonly holdsValues: boolean
  /**
   * Whether iteration, and timers of one time, follow the order entries were written in (the heap backend): a
   * restore must then write them in their saved order. The durable backend orders by key, so a restore writes
   * in any order, one key group at a time (see `restoreEntries`).
   */
  readonly insertionOrdered: boolean
  /** Number of key groups state is partitioned into (fixed for the life of a job's state). */
  readonly keyGroups: number
  value<T>(state: string | StateDescriptor): ValueState<T>
  map<K, V>(state: string | StateDescriptor): MapState<K, V>
  list<T>(state: string | StateDescriptor): ListState<T>
  aggregating<T, A, R>(state: string | StateDescriptor, fn: StateAggregate<T, A, R>): AggregatingState<T, R>
  /** Every key that has any (unexpired) state under `name`, in any namespace or in `namespace`. */
  keys(name: string, namespace?: Namespace): Iterable<unknown>
  /**
   * Calls `fn` with every unexpired entry of value state `name`: the key's identity, the value, the
   * namespace. The heap backend passes the values it holds; the durable one, decoded copies. With
   * `keyGroup`, only the entries of keys in that key group (the durable backend reads just that range).
   */
  forEachValue<T>(name: string, fn: (id: unknown, value: T, ns: Namespace) => void, keyGroup?: number): void
  /** Number of entries (key and namespace pairs) per state, as `kind:name` (for metrics). */
  sizes(): Record<string, number>
  /** Keys and estimated bytes per key group (for metrics); visits every entry, so it is read seldom. */
  keyGroupSizes?(measure: (value: unknown) => number): KeyGroupSizes
  stats(): StateStats
  /**
   * The approximate bytes the state takes where it lives: on the heap, its entries times their sampled size;
   * in a store, the pages it uses and the cells its cache holds. What a full snapshot grows with: the
   * checkpoint coordinator compares it with the size at the last full snapshot to judge how much of a chain of
   * deltas is still live.
   */
  approximateBytes(): number
  /**
   * Removes expired entries, visiting at most `budget` entries; continues where the last call stopped.
   * Backends also call it by themselves every few writes.
   */
  cleanup(now?: number, budget?: number): { visited: number; removed: number }
  /** All state, expired entries removed first, grouped by key group. Plain structured-cloneable data. */
  snapshot(): StateSnapshot
  /**
   * The same state as `snapshot`, but a backend that keeps its state in a store reads each key group when its
   * property is read (each read a new copy of the group as it is then), so that a snapshot of state larger
   * than memory is never whole on the heap: read (encode) it before the state changes again. On the heap it
   * is `snapshot()`.
   */
  snapshotByGroup(): StateSnapshot
  /** The descriptions of the states registered, by state id (a snapshot's `states`). */
  describeStates(): StateSnapshot['states']
  /**
   * Cell-level change tracking, on backends that copy values (the durable one; absent on the heap, whose values
   * may be changed in place unseen): `trackChanges(true)` starts it, forgetting what changed before; false stops
   * it, as a restore does. `changedCells` takes every cell written or removed since tracking started or since
   * its last call, and starts the next interval: its reader calls `fn` with those of one key group (its state's
   * id, its entry now, a copy; `removed` with no value), each group read at most once and before the state
   * changes again: what an operator's incremental snapshot holds of its backend's state, a key group at a time.
   */
  trackChanges?(on: boolean): void
  changedCells?(): (keyGroup: number, fn: (state: string, entry: SnapshotEntry, removed: boolean) => void) => void
  /** Replaces all state with the snapshot's, taking only `ownedKeyGroups` when given. */
  restore(snapshot: StateSnapshot, ownedKeyGroups?: KeyGroupSelection): void
  /**
   * Runs `fn`, the step's restore, letting the backend take the entries it writes in bulk (the durable store
   * writes them in batches, not through its cache; the heap just runs it). The runtime restores through it.
   */
  bulkLoad(fn: () => void): void
  /**
   * Runs `fn`, a snapshot of the step, letting the backend serve its reads without keeping what they read: a
   * store reads a key the cache does not hold straight from the store (a checkpoint reads each changed key
   * once, and cached, those keys would push out the ones the job works on). The heap just runs it.
   */
  snapshotReads<T>(fn: () => T): T
  /**
   * The timers named `name` of this step (each name one queue: a clock, a join side), kept where the state
   * is: on the heap, or in the durable store. A restore of the state does not touch them.
   */
  timers(name: string): TimerService
  /** Releases the store's resources (durable: closes and removes its files). */
  close(): void
}

export interface StateMeta {
  kind: StateKind
  name: string
  codec: string
  /** TTL in milliseconds, or null. */
  ttl: number | null
}

/**
 * One entry: `[keyId, namespace, value, expiry]`. For value and aggregating state `value` is the value
 * and `expiry` a time or null; for list state `value` is the elements and `expiry` their times (or null);
 * for map state `value` is `[field, value][]` and `expiry` the fields' times (or null).
 */
export type SnapshotEntry = [id: unknown, ns: Namespace, value: unknown, expiry: number | null | (number | null)[]]

/**
 * The logical format every backend writes and reads, so a snapshot moves between backends and between
 * parallelisms: `groups[keyGroup][stateId]` holds the entries of one key group.
 */
export interface StateSnapshot {
  format: 'sluice-keyed-state/1'
  keyGroups: number
  states: Record<string, StateMeta>
  groups: Record<number, Record<string, SnapshotEntry[]>>
}

/** Options shared by the backends. */
export interface StateBackendOptions {
  /** Number of key groups (default DEFAULT_KEY_GROUPS). */
  keyGroups?: number
  /** Processing-time clock for TTL (default: the system clock). */
  clock?: { now(): number }
  /** The step's current watermark, for TTL in event time (default: none, so such entries never expire). */
  watermark?: () => number
  /** Incremental TTL cleanup: every `every` writes to TTL state, visit `budget` entries. `false` turns it off. */
  incrementalCleanup?: { every: number; budget: number } | false
}

/**
 * Timers of one keyed operator (one clock, or one join side): `(time, key)` pairs, each held at most once,
 * fired earliest first. The heap backend keeps them in a binary heap; the durable one in its store, so
 * timers of keys larger than memory cost no heap. `keyId` is the key's identity (`keyId(key)`), `key` the
 * key as the operator emits it.
 *
 * @example
 * const timers = backend.timers('event')
 * timers.register(windowEnd - 1, keyId(key), key)
 * for (let due = timers.pollUpTo(watermark); due !== undefined; due = timers.pollUpTo(watermark)) {
 *   for (const [id, key] of due.keys) fire(due.time, id, key)
 * }
 */
export interface TimerService {
  /** Registers a timer for `keyId` carrying `key` (default: the identity); a second registration of the same time and key is one timer. */
  register(time: number, keyId: unknown, key?: unknown): void
  delete(time: number, keyId: unknown): void
  /** The earliest registered time, or +Infinity. */
  peek(): number
  /** Removes and returns the timers of the earliest time if it is at or before `upTo` (keys as identity to key). */
  pollUpTo(upTo: number): { time: number; keys: Map<unknown, unknown> } | undefined
  /** Every timer, earliest time first: `[time, [keyId, key][]][]`. */
  snapshot(): [number, [unknown, unknown][]][]
  /** Replaces every timer with `entries` (as `snapshot` gives them). */
  restore(entries: [number, [unknown, unknown][]][]): void
  /** Releases the store's resources. */
  close(): void
}
