import type { RowPatch } from '../../core/operator.ts'
import type { StateBackend, ValueState } from '../../core/state-backend.ts'
import type { Tracked } from '../change-tracker.ts'
import type { KeyedSnapshotWriter } from '../keyed-snapshot.ts'

/**
 * One side's rows of one key, and when they expire (in the spec's `ttlTime`). Rows are two parallel arrays, the values
 * and how many rows of the other side each is joined with: no object per row, for the heap (a join may hold
 * millions of rows, which every full garbage collection visits) and for snapshots (the arrays are columns).
 */
export interface SideState {
  values: unknown[]
  matches: number[]
  expiresAt: number
  /** The time of the pending cleanup timer (in `ttlTime`), or -1. */
  timer: number
}

/** What change tracking keeps of a key between two snapshots (see snapshotIncremental). */
export interface KeyChange extends Tracked {
  /**
   * While the key is listed as changed: how many rows at the start of each side are as they were at the last
   * snapshot (the rest were added since), so that a delta holds only the rows that changed.
   */
  kept?: [number, number]
  /** Whether the match counts of some of those kept rows changed, per side (rows kept in the store only). */
  old?: [boolean, boolean]
}

/** A key's two sides as the join works on them. */
export interface KeyEntry extends KeyChange {
  key: unknown
  sides: [SideState, SideState]
  /**
   * Per side, how many stored rows come before `values[0]` (rows kept in the store only): a side is read
   * from the store only when the join needs its rows, and otherwise holds just the rows added since.
   */
  base?: [number, number]
}

/** A side in a snapshot: its values and match counts (the live arrays: the runtime encodes a snapshot at once), expiry, timer. */
export type SideSnapshot = [unknown[], number[], number, number]

export const sideSnapshot = (st: SideState): SideSnapshot => [st.values, st.matches, st.expiresAt, st.timer]

export const emptySide = (): SideState => ({ values: [], matches: [], expiresAt: 0, timer: -1 })

/** How many rows side `s` of `e` holds, stored ones included. */
export const sideSize = (e: KeyEntry, s: number): number => (e.base?.[s] ?? 0) + e.sides[s].values.length

/**
 * Where a regular join keeps its keys: on the heap as one live entry per key, or in a store that copies
 * values (the durable backend), with each side's rows in pages of a few rows, so adding a row changes one page.
 */
export interface JoinKeys {
  /** The entry of `id` before side `s` changes: the other side's rows are all there, side `s`'s when `both`. */
  open(id: unknown, key: unknown, s: number, both: boolean): KeyEntry
  /** The entry of `id` before its sides' expiry is looked at, or undefined: rows need not be there. */
  peek(id: unknown): KeyEntry | undefined
  /** Drops side `s`'s rows from `e`. */
  clearSide(e: KeyEntry, s: number): void
  /** Keeps what changed in `e` since it was opened, or forgets the key when neither side holds rows. */
  close(id: unknown, e: KeyEntry): void
  /** Sets a restored key's sides. */
  put(id: unknown, key: unknown, sides: [SideState, SideState]): void
  /** The record change tracking marks for `e` (heap: the entry itself, which lives on). */
  change(id: unknown, e: KeyEntry): KeyChange
  /** A full snapshot's groups: per key its rows (`rows`) and timers (`left`, `right`). */
  snapshot(w: KeyedSnapshotWriter, timers: () => void): Record<number, unknown> | undefined
  /** Forgets the change records (after a delta, or when tracking stops). */
  forget(): void
  /** The change record of a key listed in a delta (`listed`, as the delta listed it), if it still holds state. */
  current(id: unknown, listed: KeyChange): KeyChange | undefined
  /** Files a changed key's state in a delta: whole, or as a RowPatch of what changed since the last snapshot. */
  writeDelta(w: KeyedSnapshotWriter, c: KeyChange): void
}

/** The changes of both sides since the last snapshot, when the first `kept` rows of each are as they were then. */
function sidesPatch(sides: [SideState, SideState], kept: [number, number]): RowPatch {
  const splices: RowPatch[0] = []
  const sets: RowPatch[1] = []
  for (let s = 0; s < 2; s++) {
    const st = sides[s]
    // Always, also with nothing added: rows after the kept ones may have been removed.
    splices.push([[s, 0], kept[s], st.values.slice(kept[s])])
    sets.push([[s, 1], st.matches], [[s, 2], st.expiresAt], [[s, 3], st.timer])
  }
  return [splices, sets]
}

/** Files a key's timers (the one each side waits for) in a snapshot. */
export function addTimers(w: KeyedSnapshotWriter, key: unknown, sides: readonly { timer: number }[] | readonly number[]): void {
  const t0 = typeof sides[0] === 'number' ? sides[0] : sides[0].timer
  const t1 = typeof sides[1] === 'number' ? sides[1] : sides[1].timer
  if (t0 >= 0) w.add('left', key, t0)
  if (t1 >= 0) w.add('right', key, t1)
}

/** Keys on the heap: one entry per key, changed in place (no copy, no write back). */
export class HeapJoinKeys implements JoinKeys {
  private readonly keys: ValueState<KeyEntry>
  private readonly state: StateBackend
  private readonly name: string

  constructor(state: StateBackend, name: string) {
    this.state = state
    this.name = name
    this.keys = state.value<KeyEntry>({ name, codec: 'v8' })
  }

  open(id: unknown, key: unknown): KeyEntry {
    return this.keys.get(id) ?? { key, sides: [emptySide(), emptySide()], mark: -1 }
  }

  peek(id: unknown): KeyEntry | undefined {
    return this.keys.get(id)
  }

  clearSide(e: KeyEntry, s: number): void {
    e.sides[s].values = []
    e.sides[s].matches = []
  }

  close(id: unknown, e: KeyEntry): void {
    if (e.sides[0].values.length === 0 && e.sides[1].values.length === 0) this.keys.delete(id)
    else this.keys.set(id, e)
  }

  put(id: unknown, key: unknown, sides: [SideState, SideState]): void {
    this.keys.set(id, { key, sides, mark: -1 })
  }

  change(_id: unknown, e: KeyEntry): KeyChange {
    return e
  }

  forget(): void {}

  snapshot(w: KeyedSnapshotWriter, timers: () => void): undefined {
    this.state.forEachValue<KeyEntry>(this.name, (_id, e) => w.add('rows', e.key, [sideSnapshot(e.sides[0]), sideSnapshot(e.sides[1])]))
    timers()
    return undefined
  }

  current(id: unknown): KeyChange | undefined {
    return this.keys.get(id)
  }

  writeDelta(w: KeyedSnapshotWriter, c: KeyChange): void {
    const e = c as KeyEntry
    const kept = e.kept
    if (kept === undefined || kept[0] + kept[1] === 0) w.add('rows', e.key, [sideSnapshot(e.sides[0]), sideSnapshot(e.sides[1])])
    else w.patch('rows', e.key, sidesPatch(e.sides, kept))
    addTimers(w, e.key, e.sides)
  }
}
