import { userError } from '../core/errors.ts'
import { keyGroupOf, keyId } from '../core/key.ts'
import { CHANGED_KEYS, type EntryColumns, type KeyedRestore, type KeyedSnapshot, ROW_PATCHES, type RowPatch } from '../core/operator.ts'
import type { StateBackend, TimerService } from '../core/state-backend.ts'

/**
 * One saved piece of per-key state: `[seq, key, data]`. `seq` is its position in the whole snapshot, so a
 * restore puts keys (and the keys of timers that share a time) back in their old order: restored at the
 * same parallelism, an operator emits exactly what it would have.
 */
export type KeyedEntry<D = unknown> = [seq: number, key: unknown, data: D]

/** The data of one key group: named lists of entries, plus whatever else an operator files by group. */
export type GroupData = Record<string, unknown>

/**
 * Files an operator's per-key state under the key group of each key (the group `keyGroupOf(key)` that
 * routing uses too), for a KeyedSnapshot.
 */
export class KeyedSnapshotWriter {
  readonly keyGroups: number
  private readonly groups: Record<number, GroupData> = {}
  private seq = 0

  constructor(keyGroups: number) {
    this.keyGroups = keyGroups
  }

  /** The data of key group `kg`, created empty if needed. */
  groupAt(kg: number): GroupData {
    return (this.groups[kg] ??= {})
  }

  /**
   * Adds `data` of `key` to list `list` of the key's group. A list is stored as columns (positions, keys,
   * data): far fewer objects than an array per entry, so a snapshot of many keys serializes faster.
   */
  add(list: string, key: unknown, data: unknown): void {
    this.addAt(keyGroupOf(key, this.keyGroups), list, key, data)
  }

  /**
   * `add` in key group `kg`, for an entry whose key is not what routes it (a state cell's own identity, filed
   * under its key's group).
   */
  addAt(kg: number, list: string, key: unknown, data: unknown): void {
    const cols = (this.groupAt(kg)[list] ??= { s: [], k: [], d: [] }) as EntryColumns
    cols.s.push(this.seq++)
    cols.k.push(key)
    cols.d.push(data)
  }

  /** Marks `key` as changed, in a delta (see `Operator.snapshotIncremental`); its entries, if any, are added with `add`. */
  changed(key: unknown): void {
    this.changedAt(keyGroupOf(key, this.keyGroups), key)
  }

  /** `changed` in key group `kg` (see `addAt`). */
  changedAt(kg: number, key: unknown): void {
    ;((this.groupAt(kg)[CHANGED_KEYS] ??= []) as unknown[]).push(key)
  }

  /**
   * In a delta, the changes of `key`'s entry in list `list` since the previous snapshot, instead of the whole
   * entry (the key must be marked `changed` too).
   */
  patch(list: string, key: unknown, patch: RowPatch): void {
    const g = this.groupAt(keyGroupOf(key, this.keyGroups))
    const lists = (g[ROW_PATCHES] ??= {}) as Record<string, EntryColumns>
    const cols = (lists[list] ??= { s: [], k: [], d: [] })
    cols.s.push(this.seq++)
    cols.k.push(key)
    cols.d.push(patch)
  }

  /** Adds every timer of `queue` to list `list`, each under its key, as `[seq, key, time]`. */
  timers(list: string, queue: TimerService): void {
    for (const [time, keys] of queue.snapshot()) for (const [, key] of keys) this.add(list, key, time)
  }

  /**
   * Adds the timers in `queue` of the keys `keys` (identities) to list `list`, as `timers` does, found among all
   * its timers (they are few beside the state they belong to; an index by key cost more to keep than it saved).
   */
  timersOf(list: string, queue: TimerService, keys: { has(id: unknown): boolean; readonly size: number }): void {
    if (keys.size === 0) return
    for (const [time, ks] of queue.snapshot()) for (const [id, key] of ks) if (keys.has(id)) this.add(list, key, time)
  }

  /** Removes and returns the data filed under key group `kg` so far (undefined if none). */
  takeGroup(kg: number): GroupData | undefined {
    const g = this.groups[kg]
    delete this.groups[kg]
    return g
  }

  /** The snapshot. It shares live state until the caller copies it (the runtime serializes it at once). */
  build(shared: unknown): KeyedSnapshot {
    return shared === undefined ? { keyGroups: this.keyGroups, groups: this.groups } : { keyGroups: this.keyGroups, groups: this.groups, shared }
  }

}

/**
 * The groups of a snapshot made one key group at a time as they are read (the runtime encodes them in key
 * group order), so that a snapshot of state larger than memory holds one key group at a time: `fill(kg)`
 * files the group's entries through `w`. Each group holds the state as of when it is read: encode the
 * snapshot before the operator runs again. A group without entries reads as `{}`.
 *
 * @example
 * const groups = lazyGroups(w, (kg) => store.forEachValue('keys', (_id, e) => w.add('keys', e.key, e), kg))
 */
export function lazyGroups(w: KeyedSnapshotWriter, fill: (kg: number) => void): Record<number, unknown> {
  const groups: Record<number, unknown> = {}
  for (let kg = 0; kg < w.keyGroups; kg++) {
    Object.defineProperty(groups, kg, {
      enumerable: true,
      get: () => {
        fill(kg)
        return w.takeGroup(kg) ?? {}
      },
    })
  }
  return groups
}

/**
 * A full keyed snapshot of state kept in `state`, its entries filed through `w` by `fill(kg)`: on a backend that
 * keeps its state in a store (the durable one, `holdsValues` false), one key group at a time as the runtime
 * encodes the snapshot (see `lazyGroups`), so that a snapshot of state larger than memory holds one key group
 * at a time; on the heap, whose entries are not visited by key group, all at once (`fill(undefined)`). What
 * the operator filed through `w` before (its timers) goes with each group.
 *
 * @example
 * w.timers('event', this.eventTimers)
 * return snapshotOf(state, w, (kg) => state.forEachValue<Row>(ROWS, (_id, r) => w.add('rows', r.key, r.acc), kg))
 */
export function snapshotOf(state: StateBackend, w: KeyedSnapshotWriter, fill: (kg: number | undefined) => void, shared?: unknown): KeyedSnapshot {
  if (state.holdsValues) {
    fill(undefined)
    return w.build(shared)
  }
  const groups = lazyGroups(w, fill)
  return shared === undefined ? { keyGroups: w.keyGroups, groups } : { keyGroups: w.keyGroups, groups, shared }
}

/**
 * Every entry of list `list` in a snapshot, as `[key, data]`, a key group at a time (a lazy group is read
 * when its turn comes): how the state API reads an operator's state as rows from its own snapshot.
 */
export function* snapshotEntries<D>(s: KeyedSnapshot, list: string): Generator<[key: unknown, data: D]> {
  for (const g in s.groups) {
    const c = (s.groups[g as unknown as number] as GroupData | undefined)?.[list] as EntryColumns | undefined
    if (c !== undefined) for (let i = 0; i < c.s.length; i++) yield [c.k[i], c.d[i] as D]
  }
}

/** Throws unless `r` is a KeyedRestore over `keyGroups` key groups. */
export function checkRestore(r: unknown, keyGroups: number, step: string): KeyedRestore {
  const k = r as Partial<KeyedRestore> | null
  if (typeof k !== 'object' || k === null || typeof k.groups !== 'object' || k.groups === null || !Array.isArray(k.shared)) {
    throw userError('SLUICE_STATE_SNAPSHOT', `step '${step}': not a keyed restore (state by key group)`, { step })
  }
  if (k.keyGroups !== keyGroups) {
    throw userError('SLUICE_STATE_KEY_GROUPS', `step '${step}': the state has ${String(k.keyGroups)} key groups, this job ${keyGroups}`, {
      step,
      hint: 'the number of key groups is fixed for the life of a job; restore with the same keyGroups',
    })
  }
  return k as KeyedRestore
}

/**
 * The entries of list `list` in every restored group, in their old order. The operator takes them over: the
 * runtime decodes a fresh restore for each subtask (and the harness copies), so nothing is copied again.
 */
export function readEntries<D>(r: KeyedRestore, list: string): KeyedEntry<D>[] {
  const all: KeyedEntry<D>[] = []
  restoreEntries(r, { [list]: (key, data: D, seq: number) => all.push([seq, key, data]) }, false)
  return inOldOrder(all)
}

// Entries of one old subtask keep their order; those of different old subtasks may interleave in any way.
const inOldOrder = <E extends KeyedEntry>(entries: E[]): E[] => entries.sort((a, b) => a[0] - b[0])

/**
 * Hands every restored entry of the lists named in `each` to that list's function. Key groups are read one
 * at a time, each once (a restore may decode a group when it is read, and let it go after). `inOrder` (a
 * store whose iteration follows the order of writes: the heap backend, a heap timer queue): the entries of
 * the named lists are gathered, then handed over list by list, each in its old order over all groups.
 * Otherwise each as its group is read: how state larger than memory is restored into a store that orders
 * entries by key (the durable backend, where the order of writes shows nowhere).
 *
 * @example restoreEntries(r, { rows: (key, row) => rows.set(keyId(key), row) }, state.insertionOrdered)
 */
export function restoreEntries(r: KeyedRestore, each: Record<string, (key: unknown, data: never, seq: number) => void>, inOrder: boolean): void {
  const lists = Object.entries(each)
  const gathered = inOrder ? lists.map((): KeyedEntry[] => []) : undefined
  for (const g in r.groups) {
    const data = r.groups[g as unknown as number] as GroupData | undefined
    if (data === undefined) continue
    for (let l = 0; l < lists.length; l++) {
      const c = data[lists[l][0]] as EntryColumns | undefined
      if (c === undefined) continue
      const fn = lists[l][1]
      if (gathered !== undefined) for (let i = 0; i < c.s.length; i++) gathered[l].push([c.s[i], c.k[i], c.d[i]])
      else for (let i = 0; i < c.s.length; i++) fn(c.k[i], c.d[i] as never, c.s[i])
    }
  }
  if (gathered !== undefined) lists.forEach(([, fn], l) => inOldOrder(gathered[l]).forEach(([s, k, d]) => fn(k, d as never, s)))
}

/**
 * A function for `restoreEntries` that puts restored timers into `queue` (emptied first), adding each
 * distinct time to `times` when given (processing-time timers, which the operator schedules).
 */
export function timersInto(queue: TimerService, times?: Set<number>): (key: unknown, time: number) => void {
  queue.restore([])
  return (key, time) => {
    queue.register(time, keyId(key), key)
    times?.add(time)
  }
}

/** The lowest of a number in every previous subtask's shared data (a watermark), or `none` if none had one. */
export function minShared(r: KeyedRestore, field: string, none = -Infinity): number {
  let min = Infinity
  let any = false
  for (const s of r.shared) {
    const v = (s as Record<string, unknown> | undefined)?.[field]
    if (typeof v === 'number') {
      any = true
      if (v < min) min = v
    }
  }
  return any ? min : none
}
