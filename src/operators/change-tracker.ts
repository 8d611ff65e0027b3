import { SluiceError } from '../core/errors.ts'
import { keyGroupOf, keyId } from '../core/key.ts'
import type { KeyedSnapshot } from '../core/operator.ts'
import type { StateBackend, TimerService } from '../core/state-backend.ts'
import { KeyedSnapshotWriter, snapshotOf } from './keyed-snapshot.ts'

/** A per-key entry an operator holds: its key, and the tracking epoch in which it last changed (-1: never). */
export interface Tracked {
  key: unknown
  mark: number
}

/**
 * The keys an operator changed since its previous incremental snapshot (see `Operator.snapshotIncremental`).
 * Off until a base snapshot starts it, so nothing accumulates when no one takes deltas. An entry is listed
 * once per interval: marking costs a comparison of its stamp with the current epoch.
 */
export class ChangeTracker<E extends Tracked> {
  private on = false
  private epoch = 0
  private changed: E[] = []

  /**
   * Whether `e` is not yet listed in this interval while tracking is on: an operator that writes row-level
   * deltas notes what `e` held at the last snapshot before its first change.
   */
  unlisted(e: E): boolean {
    return this.on && e.mark !== this.epoch
  }

  /** Whether changes are being tracked (a base snapshot started it). */
  get tracking(): boolean {
    return this.on
  }

  /** Notes that `e` changed (a no-op when tracking is off or it is already listed). */
  mark(e: E): void {
    if (this.on && e.mark !== this.epoch) {
      e.mark = this.epoch
      this.changed.push(e)
    }
  }

  /**
   * `Operator.snapshotIncremental` of an operator whose keys this tracks: a base is `full()` (a full snapshot,
   * which stops tracking) and starts tracking; else `delta()` (see `delta`).
   */
  incremental(base: boolean, full: () => KeyedSnapshot, delta: () => KeyedSnapshot): KeyedSnapshot {
    if (!base) return delta()
    const s = full()
    this.start()
    return s
  }

  /** Tracking starts: the base snapshot was just taken. */
  start(): void {
    this.on = true
  }

  /** Tracking stops (a full snapshot or a restore): what was listed is forgotten. */
  stop(): void {
    this.on = false
    this.changed = []
    this.epoch++
  }

  /**
   * The delta since the previous call: every changed key listed (so removed ones are known), and for each
   * still held, what `write` files for its current entry (`current(id, listed)`: the entry now, given the one
   * listed); `timers` lists each queue whose timers of the changed keys go in the delta too (a changed key's
   * entries in every list are replaced), under its list name. Starts the next interval.
   *
   * On a backend that keeps its state in a store (`holdsValues` false), the entries are read one key group at
   * a time as the runtime encodes the delta (see `lazyGroups`): a delta then holds one key group's rows in
   * memory, not those of every key changed in the interval, which may be more than the heap holds.
   */
  delta(
    state: StateBackend,
    step: string,
    current: (id: unknown, listed: E) => E | undefined,
    write: (w: KeyedSnapshotWriter, e: E) => void,
    timers: [list: string, queue: TimerService][] = [],
    shared?: unknown,
  ): KeyedSnapshot {
    if (!this.on) throw new SluiceError('SLUICE_INTERNAL', `step '${step}': an incremental snapshot was asked for without a base`, { step, domain: 'internal' })
    const keyGroups = state.keyGroups
    const w = new KeyedSnapshotWriter(keyGroups)
    const seen = new Set<unknown>()
    // Per key group on a store (read as each group is encoded), else all in the order they changed.
    const listed: E[] = []
    const byGroup: E[][] | undefined = state.holdsValues ? undefined : []
    for (const e of this.changed) {
      const id = keyId(e.key)
      if (seen.has(id)) continue
      seen.add(id)
      const kg = keyGroupOf(e.key, keyGroups)
      w.changedAt(kg, e.key)
      if (byGroup !== undefined) (byGroup[kg] ??= []).push(e)
      else listed.push(e)
    }
    for (const [list, queue] of timers) w.timersOf(list, queue, seen)
    this.changed = []
    this.epoch++
    return snapshotOf(
      state,
      w,
      (kg) => {
        const keys = kg === undefined ? listed : byGroup?.[kg]
        if (kg !== undefined && byGroup !== undefined) byGroup[kg] = []
        for (const e of keys ?? []) {
          const now = current(keyId(e.key), e)
          if (now !== undefined) write(w, now)
        }
      },
      shared,
    )
  }
}
