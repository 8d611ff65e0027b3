/**
 * Keyed state of one step, behind one interface so that durable backends can replace the heap.
 * Every handle is addressed by the key's identity (see `keyId`), and optionally a namespace
 * (a window) so that window contents live in the same store.
 */
export interface ValueState<T> {
  get(key: unknown): T | undefined
  set(key: unknown, value: T): void
  delete(key: unknown): void
}

export interface MapState<K, V> {
  get(key: unknown, field: K): V | undefined
  set(key: unknown, field: K, value: V): void
  delete(key: unknown, field: K): void
  entries(key: unknown): Iterable<[K, V]>
  clear(key: unknown): void
}

export interface ListState<T> {
  get(key: unknown): readonly T[]
  add(key: unknown, value: T): void
  set(key: unknown, values: T[]): void
  clear(key: unknown): void
}

export interface StateBackend {
  readonly kind: string
  value<T>(name: string): ValueState<T>
  map<K, V>(name: string): MapState<K, V>
  list<T>(name: string): ListState<T>
  /** Every key that has any state under `name`. */
  keys(name: string): Iterable<unknown>
  /** Number of keys holding state, per state name (for metrics: unbounded keyed state shows here). */
  sizes(): Record<string, number>
  snapshot(): StateSnapshot
  restore(snapshot: StateSnapshot): void
}

/** Plain data: state name -> list of [key, value] entries. */
export type StateSnapshot = Record<string, [unknown, unknown][]>
