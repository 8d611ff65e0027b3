import { keyId } from '../../core/key.ts'
import type { RowPatch } from '../../core/operator.ts'
import type { StateBackend, ValueState } from '../../core/state-backend.ts'
import { type KeyedSnapshotWriter, lazyGroups } from '../keyed-snapshot.ts'
import { addTimers, emptySide, type JoinKeys, type KeyChange, type KeyEntry, type SideState, sideSize } from './regular-join-state.ts'

/** A key's sides without their rows: row counts, expiries and timers. */
interface KeyMeta {
  key: unknown
  n: [number, number]
  expiresAt: [number, number]
  timer: [number, number]
}

/** One row: its value and how many rows of the other side it is joined with. */
type Row = [value: unknown, matches: number]

/** An entry as opened from the store: how many rows each side had there. */
interface StoredEntry extends KeyEntry {
  base: [number, number]
  stored: [number, number]
}

/** Row `i` of side `s` lives in this namespace of the key (rows of both sides interleave). */
const rowNs = (i: number, s: number): number => 2 * i + s
/** Namespaces whose handles are kept (the first rows of every key are the ones read most). */
const KEPT_HANDLES = 256

/**
 * A regular join's keys in a backend that copies values (the durable store), row by row: a key's counts,
 * expiries and timers in one small value, and every row its own entry, so that adding a row writes that row
 * (and the rows of the other side whose match counts it changed), not the key's every row; a side's rows are
 * read only when the join needs them. Snapshots read the store one key group at a time (see `lazyGroups`),
 * and change tracking keeps per changed key only what a delta needs to find its new rows in the store.
 */
export class StoreJoinKeys implements JoinKeys {
  private readonly state: StateBackend
  private readonly metaName: string
  private readonly rowsName: string
  private readonly meta: ValueState<KeyMeta>
  private readonly rows: ValueState<Row>
  private readonly handles: ValueState<Row>[] = []
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

  private row(i: number, s: number): ValueState<Row> {
    const ns = rowNs(i, s)
    if (ns >= KEPT_HANDLES) return this.rows.namespace(ns)
    return (this.handles[ns] ??= this.rows.namespace(ns))
  }

  /** Reads rows `from`..`to - 1` of side `s` into `st`. */
  private read(id: unknown, s: number, from: number, to: number, st: { values: unknown[]; matches: number[] }): void {
    for (let i = from; i < to; i++) {
      const r = this.row(i, s).get(id)
      st.values.push(r?.[0])
      st.matches.push(r?.[1] ?? 0)
    }
  }

  private entry(id: unknown, m: KeyMeta, load: [boolean, boolean]): StoredEntry {
    const side = (s: number): SideState => {
      const st: SideState = { values: [], matches: [], expiresAt: m.expiresAt[s], timer: m.timer[s] }
      if (load[s]) this.read(id, s, 0, m.n[s], st)
      return st
    }
    return {
      key: m.key,
      sides: [side(0), side(1)],
      mark: -1,
      base: [load[0] ? 0 : m.n[0], load[1] ? 0 : m.n[1]],
      stored: [m.n[0], m.n[1]],
    }
  }

  open(id: unknown, key: unknown, s: number, both: boolean): KeyEntry {
    const m = this.meta.get(id)
    if (m === undefined) return { key, sides: [emptySide(), emptySide()], mark: -1, base: [0, 0], stored: [0, 0] } as StoredEntry
    return this.entry(id, m, [both || s !== 0 || m.n[0] === 0, both || s !== 1 || m.n[1] === 0])
  }

  peek(id: unknown): KeyEntry | undefined {
    const m = this.meta.get(id)
    return m === undefined ? undefined : this.entry(id, m, [false, false])
  }

  clearSide(e: KeyEntry, s: number): void {
    const se = e as StoredEntry
    for (let i = 0; i < se.stored[s]; i++) this.row(i, s).delete(keyId(e.key))
    se.sides[s].values = []
    se.sides[s].matches = []
    se.base[s] = 0
    se.stored[s] = 0
  }

  close(id: unknown, e: KeyEntry): void {
    const se = e as StoredEntry
    for (let s = 0; s < 2; s++) {
      const st = se.sides[s]
      const b = se.base[s]
      // A side read whole is written whole (its match counts changed); one that was not, only its new rows.
      for (let i = 0; i < st.values.length; i++) this.row(b + i, s).set(id, [st.values[i], st.matches[i]])
      if (b === 0) for (let i = st.values.length; i < se.stored[s]; i++) this.row(i, s).delete(id)
    }
    const n0 = sideSize(e, 0)
    const n1 = sideSize(e, 1)
    if (n0 + n1 === 0) this.meta.delete(id)
    else this.meta.set(id, { key: e.key, n: [n0, n1], expiresAt: [e.sides[0].expiresAt, e.sides[1].expiresAt], timer: [e.sides[0].timer, e.sides[1].timer] })
  }

  put(id: unknown, key: unknown, sides: [SideState, SideState]): void {
    this.close(id, { key, sides, mark: -1, base: [0, 0], stored: [0, 0] } as StoredEntry)
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
      const rows = new Map<unknown, [unknown[], number[], unknown[], number[]]>()
      this.state.forEachValue<Row>(
        this.rowsName,
        (id, r, ns) => {
          const s = (ns as number) & 1
          const i = ((ns as number) - s) / 2
          let cols = rows.get(id)
          if (cols === undefined) rows.set(id, (cols = [[], [], [], []]))
          cols[2 * s][i] = r[0]
          cols[2 * s + 1][i] = r[1]
        },
        kg,
      )
      this.state.forEachValue<KeyMeta>(
        this.metaName,
        (id, m) => {
          const c = rows.get(id) ?? [[], [], [], []]
          w.add('rows', m.key, [
            [c[0], c[1], m.expiresAt[0], m.timer[0]],
            [c[2], c[3], m.expiresAt[1], m.timer[1]],
          ])
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
        this.read(id, s, kept[s], m.n[s], added)
        splices.push([[s, 0], kept[s], added.values], [[s, 1], kept[s], added.matches])
        if (c.old?.[s] === true) {
          const all = { values: [] as unknown[], matches: [] as number[] }
          this.read(id, s, 0, kept[s], all)
          sets.push([[s, 1], all.matches.concat(added.matches)])
        }
        sets.push([[s, 2], m.expiresAt[s]], [[s, 3], m.timer[s]])
      }
      w.patch('rows', key, [splices, sets])
    }
    addTimers(w, key, m.timer)
  }
}
