import { keyId } from '../../core/key.ts'
import type { RowPatch } from '../../core/operator.ts'
import type { StateBackend, ValueState } from '../../core/state-backend.ts'
import { type KeyedSnapshotWriter, lazyGroups } from '../keyed-snapshot.ts'
import { addTimers, emptySide, type JoinKeys, type KeyChange, type KeyEntry, type SideSnapshot, type SideState } from './regular-join-state.ts'

/** A key's sides without their rows: where each row is stored, expiries and timers. */
interface KeyMeta {
  key: unknown
  /** Per side, the sequence number of each row in order: the namespace its entry is stored under. */
  seqs: [number[], number[]]
  expiresAt: [number, number]
  timer: [number, number]
}

/** One row: its value and how many rows of the other side it is joined with. */
type Row = [value: unknown, matches: number]

/**
 * An entry as opened from the store: where each side's stored rows are (the key's own lists, changed as rows
 * are added and removed: every entry opened is closed before the next is opened, and closing writes them).
 */
interface StoredEntry extends KeyEntry {
  base: [number, number]
  seqs: [number[], number[]]
}

/**
 * A regular join's keys in a backend that copies values (the durable store), row by row: a key's row
 * positions, expiries and timers in one small value, and every row its own entry, so that adding a row writes
 * that row (and the rows of the other side whose match counts it changed), not the key's every row; a side's
 * rows are read only when the join needs them. A row is stored under a sequence number of its own, taken in
 * arrival order, as its namespace: the store orders entries by key group, state and namespace before the key,
 * so new rows are written at the end of their key group's range (one page of the store takes many), where a
 * row's position (the namespace before) put each at a random place among all the rows at that position, a page
 * of the store rewritten for each. Snapshots read the store one key group at a time (see `lazyGroups`), and
 * change tracking keeps per changed key only what a delta needs to find its new rows in the store.
 */
export class StoreJoinKeys implements JoinKeys {
  private readonly state: StateBackend
  private readonly metaName: string
  private readonly rowsName: string
  private readonly meta: ValueState<KeyMeta>
  private readonly rows: ValueState<Row>
  /** The next row's sequence number (the store holds no rows of this join when it is made: it starts empty, and a restore empties it). */
  private nextSeq = 0
  /** The keys changed since the last snapshot, while tracking is on. */
  private readonly changes = new Map<unknown, KeyChange & { key: unknown }>()

  constructor(state: StateBackend, name: string) {
    this.state = state
    this.metaName = name
    this.rowsName = `${name}-rows`
    // v8: rows are kept as they came (dates, bigints).
    this.meta = state.value<KeyMeta>({ name: this.metaName, codec: 'v8' })
    this.rows = state.value<Row>({ name: this.rowsName, codec: 'v8' })
  }

  private row(seq: number): ValueState<Row> {
    return this.rows.namespace(seq)
  }

  /** Reads the rows of `seqs` from `from` up to `to - 1` into `st`. */
  private read(id: unknown, seqs: number[], from: number, to: number, st: { values: unknown[]; matches: number[] }): void {
    for (let i = from; i < to; i++) {
      const r = this.row(seqs[i]).get(id)
      st.values.push(r?.[0])
      st.matches.push(r?.[1] ?? 0)
    }
  }

  private entry(id: unknown, m: KeyMeta, load: [boolean, boolean]): StoredEntry {
    const side = (s: number): SideState => {
      const st: SideState = { values: [], matches: [], expiresAt: m.expiresAt[s], timer: m.timer[s] }
      if (load[s]) this.read(id, m.seqs[s], 0, m.seqs[s].length, st)
      return st
    }
    return {
      key: m.key,
      sides: [side(0), side(1)],
      mark: -1,
      base: [load[0] ? 0 : m.seqs[0].length, load[1] ? 0 : m.seqs[1].length],
      seqs: m.seqs,
    }
  }

  open(id: unknown, key: unknown, s: number, both: boolean): KeyEntry {
    const m = this.meta.get(id)
    if (m === undefined) return { key, sides: [emptySide(), emptySide()], mark: -1, base: [0, 0], seqs: [[], []] } as StoredEntry
    return this.entry(id, m, [both || s !== 0 || m.seqs[0].length === 0, both || s !== 1 || m.seqs[1].length === 0])
  }

  peek(id: unknown): KeyEntry | undefined {
    const m = this.meta.get(id)
    return m === undefined ? undefined : this.entry(id, m, [false, false])
  }

  clearSide(e: KeyEntry, s: number): void {
    const se = e as StoredEntry
    const id = keyId(e.key)
    for (const seq of se.seqs[s]) this.row(seq).delete(id)
    se.sides[s].values = []
    se.sides[s].matches = []
    se.base[s] = 0
    se.seqs[s] = []
  }

  close(id: unknown, e: KeyEntry): void {
    const se = e as StoredEntry
    for (let s = 0; s < 2; s++) {
      const st = se.sides[s]
      const b = se.base[s]
      const seqs = se.seqs[s]
      // A side read whole is written whole (its match counts changed); one that was not, only its new rows.
      for (let i = 0; i < st.values.length; i++) {
        if (b + i === seqs.length) seqs.push(this.nextSeq++)
        this.row(seqs[b + i]).set(id, [st.values[i], st.matches[i]])
      }
      if (b === 0 && seqs.length > st.values.length) {
        for (let i = st.values.length; i < seqs.length; i++) this.row(seqs[i]).delete(id)
        seqs.length = st.values.length
      }
    }
    if (se.seqs[0].length + se.seqs[1].length === 0) this.meta.delete(id)
    else this.meta.set(id, { key: e.key, seqs: se.seqs, expiresAt: [e.sides[0].expiresAt, e.sides[1].expiresAt], timer: [e.sides[0].timer, e.sides[1].timer] })
  }

  put(id: unknown, key: unknown, sides: [SideState, SideState]): void {
    this.close(id, { key, sides, mark: -1, base: [0, 0], seqs: [[], []] } as StoredEntry)
  }

  change(id: unknown, e: KeyEntry): KeyChange {
    let c = this.changes.get(id)
    if (c === undefined) this.changes.set(id, (c = { key: e.key, mark: -1, old: [false, false] }))
    return c
  }

  /** Forgets the changes listed (after a delta, or when tracking stops). */
  forget(): void {
    this.changes.clear()
  }

  snapshot(w: KeyedSnapshotWriter): Record<number, unknown> {
    return lazyGroups(w, (kg) => {
      const rows = new Map<number, Row>()
      this.state.forEachValue<Row>(this.rowsName, (_id, r, ns) => rows.set(ns as number, r), kg)
      this.state.forEachValue<KeyMeta>(
        this.metaName,
        (_id, m) => {
          const side = (s: number): SideSnapshot => {
            const seqs = m.seqs[s]
            const values = new Array<unknown>(seqs.length)
            const matches = new Array<number>(seqs.length)
            for (let i = 0; i < seqs.length; i++) {
              const r = rows.get(seqs[i])
              values[i] = r?.[0]
              matches[i] = r?.[1] ?? 0
            }
            return [values, matches, m.expiresAt[s], m.timer[s]]
          }
          w.add('rows', m.key, [side(0), side(1)])
          addTimers(w, m.key, m.timer)
        },
        kg,
      )
    })
  }

  current(id: unknown): KeyChange | undefined {
    return this.meta.get(id) === undefined ? undefined : this.changes.get(id)
  }

  writeDelta(w: KeyedSnapshotWriter, c: KeyChange): void {
    const key = (c as { key: unknown }).key
    const id = keyId(key)
    const m = this.meta.get(id)!
    const kept = c.kept
    if (kept === undefined || kept[0] + kept[1] === 0) {
      const e = this.entry(id, m, [true, true])
      w.add('rows', key, [
        [e.sides[0].values, e.sides[0].matches, m.expiresAt[0], m.timer[0]],
        [e.sides[1].values, e.sides[1].matches, m.expiresAt[1], m.timer[1]],
      ])
    } else {
      const splices: RowPatch[0] = []
      const sets: RowPatch[1] = []
      for (let s = 0; s < 2; s++) {
        const added = { values: [] as unknown[], matches: [] as number[] }
        this.read(id, m.seqs[s], kept[s], m.seqs[s].length, added)
        splices.push([[s, 0], kept[s], added.values], [[s, 1], kept[s], added.matches])
        if (c.old?.[s] === true) {
          const all = { values: [] as unknown[], matches: [] as number[] }
          this.read(id, m.seqs[s], 0, kept[s], all)
          sets.push([[s, 1], all.matches.concat(added.matches)])
        }
        sets.push([[s, 2], m.expiresAt[s]], [[s, 3], m.timer[s]])
      }
      w.patch('rows', key, [splices, sets])
    }
    addTimers(w, key, m.timer)
  }
}
