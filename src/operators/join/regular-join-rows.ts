import { internalError } from '../../core/errors.ts'
import { keyId } from '../../core/key.ts'
import type { RowPatch } from '../../core/operator.ts'
import type { StateBackend, ValueState } from '../../core/state-backend.ts'
import { type KeyedSnapshotWriter, lazyGroups } from '../keyed-snapshot.ts'
import { addTimers, emptySide, type JoinKeys, type KeyChange, type KeyEntry, type SideSnapshot, type SideState } from './regular-join-state.ts'

/**
 * A key's description and each side's first page of rows: where the side's other pages are stored, how many
 * rows, expiries and timers.
 */
interface KeyMeta {
  key: unknown
  /**
   * Per side, the sequence number of each page in order: the namespace its entry is stored under; the first
   * page's is `HEAD` (it is in `head`).
   */
  pages: [number[], number[]]
  /** Per side, its first page (null when the side has no rows). */
  head: [Page | null, Page | null]
  /** Per side, how many rows its pages hold (every page but the last holds `PAGE` rows). */
  sizes: [number, number]
  expiresAt: [number, number]
  timer: [number, number]
}

/** Up to `PAGE` rows of one side of one key, in order: their values and how many rows of the other side each is joined with. */
type Page = [values: unknown[], matches: number[]]

/**
 * Rows a page holds. A page is written when the write-back cache gives it up or a checkpoint flushes it, so
 * rows added to a key while its last page is cached cost one store write per page, not one per row; a page
 * read back to take more rows costs decoding at most this many.
 */
const PAGE = 16

/**
 * The sequence number that stands for a side's first page, held in the key's description: a key with a few
 * rows a side (most keys) is one entry of the store, read and written once, not one per page and side.
 */
const HEAD = -1

/**
 * An entry as opened from the store: where each side's stored pages are (the key's own lists, changed as rows
 * are added and removed: every entry opened is closed before the next is opened, and closing writes them).
 */
interface StoredEntry extends KeyEntry {
  base: [number, number]
  pages: [number[], number[]]
  /** The key's stored description as read (changed in place when the entry is closed), or undefined for a new key. */
  meta: KeyMeta | undefined
}

/**
 * A regular join's keys in a backend that copies values (the durable store), page by page: a key's page
 * positions, row counts, expiries, timers and each side's first page in one value (a key with few rows is one
 * entry), and each side's further rows in pages of `PAGE` rows, every page its own entry, so that adding a row
 * changes the side's last page (and the pages of the other side whose match counts it changed), not the key's
 * every row; a side's rows are read only when the join needs them. A page is stored under a sequence number of
 * its own, taken in arrival order, as its namespace: the store orders entries by key group, state and namespace
 * before the key, so new pages are written at the end of their key group's range (one page of the store's file
 * takes many of them). Snapshots read the store one key
 * group at a time (see `lazyGroups`), and change tracking keeps per changed key only what a delta needs to find
 * its new rows.
 */
export class StoreJoinKeys implements JoinKeys {
  private readonly state: StateBackend
  private readonly metaName: string
  private readonly pagesName: string
  private readonly meta: ValueState<KeyMeta>
  private readonly pageState: ValueState<Page>
  /** The next page's sequence number (the store holds no rows of this join when it is made: it starts empty, and a restore empties it). */
  private nextSeq = 0
  /**
   * The description `current` read last, and its key: a delta writes that key next, and a description read
   * from the store (not cached during a snapshot) would be decoded again, its first pages with it.
   */
  private lastId: unknown
  private lastMeta: KeyMeta | undefined
  /** The keys changed since the last snapshot, while tracking is on. */
  private readonly changes = new Map<unknown, KeyChange & { key: unknown }>()

  constructor(state: StateBackend, name: string) {
    this.state = state
    this.metaName = name
    this.pagesName = `${name}-pages`
    // v8: rows are kept as they came (dates, bigints).
    this.meta = state.value<KeyMeta>({ name: this.metaName, codec: 'v8' })
    this.pageState = state.value<Page>({ name: this.pagesName, codec: 'v8' })
  }

  private page(seq: number): ValueState<Page> {
    return this.pageState.namespace(seq)
  }

  /** Page `seq` of side `s` of key `id` described by `m` (`HEAD`: the one `m` holds). */
  private pageAt(id: unknown, m: KeyMeta, s: number, seq: number): Page | undefined {
    return seq === HEAD ? (m.head[s] ?? undefined) : this.page(seq).get(id)
  }

  /** Sets page `seq` of side `s` of key `id` described by `m` (`HEAD` is written with `m`, as the key closes). */
  private setPage(id: unknown, m: KeyMeta, s: number, seq: number, p: Page): void {
    if (seq === HEAD) m.head[s] = p
    else this.page(seq).set(id, p)
  }

  private dropPage(id: unknown, m: KeyMeta | undefined, s: number, seq: number): void {
    if (seq !== HEAD) this.page(seq).delete(id)
    else if (m !== undefined) m.head[s] = null
  }

  /** Reads rows `from` up to `to - 1` of side `s` of a key described by `m` into `st`. */
  private read(id: unknown, m: KeyMeta, s: number, from: number, to: number, st: { values: unknown[]; matches: number[] }): void {
    const pages = m.pages[s]
    let i = from
    while (i < to) {
      const p = this.pageAt(id, m, s, pages[Math.floor(i / PAGE)])
      const off = i % PAGE
      const end = Math.min(PAGE, off + to - i)
      for (let j = off; j < end; j++) {
        st.values.push(p?.[0][j])
        st.matches.push(p?.[1][j] ?? 0)
      }
      i += end - off
    }
  }

  private entry(id: unknown, m: KeyMeta, load: [boolean, boolean]): StoredEntry {
    const side = (s: number): SideState => {
      const st: SideState = { values: [], matches: [], expiresAt: m.expiresAt[s], timer: m.timer[s] }
      if (load[s]) this.read(id, m, s, 0, m.sizes[s], st)
      return st
    }
    return {
      key: m.key,
      sides: [side(0), side(1)],
      mark: -1,
      base: [load[0] ? 0 : m.sizes[0], load[1] ? 0 : m.sizes[1]],
      pages: m.pages,
      meta: m,
    }
  }

  open(id: unknown, key: unknown, s: number, both: boolean): KeyEntry {
    const m = this.meta.get(id)
    if (m === undefined) return { key, sides: [emptySide(), emptySide()], mark: -1, base: [0, 0], pages: [[], []], meta: undefined } as StoredEntry
    return this.entry(id, m, [both || s !== 0 || m.sizes[0] === 0, both || s !== 1 || m.sizes[1] === 0])
  }

  peek(id: unknown): KeyEntry | undefined {
    const m = this.meta.get(id)
    return m === undefined ? undefined : this.entry(id, m, [false, false])
  }

  clearSide(e: KeyEntry, s: number): void {
    const se = e as StoredEntry
    const id = keyId(e.key)
    for (const seq of se.pages[s]) this.dropPage(id, se.meta, s, seq)
    se.sides[s].values = []
    se.sides[s].matches = []
    se.base[s] = 0
    se.pages[s] = []
  }

  close(id: unknown, e: KeyEntry): void {
    const se = e as StoredEntry
    // The stored description is changed in place (the cache holds it: a new one per record would be garbage
    // the collector finds only in a full collection, as the cache keeps it long enough to be promoted).
    const m = se.meta ?? { key: e.key, pages: se.pages, head: [null, null], sizes: [0, 0], expiresAt: [0, 0], timer: [-1, -1] }
    for (let s = 0; s < 2; s++) {
      const st = se.sides[s]
      const b = se.base[s]
      // A side read whole is written whole (its match counts changed); one that was not, only its new rows.
      if (b === 0) this.writeSide(id, m, s, se.pages[s], st)
      else if (st.values.length > 0) this.append(id, m, s, se.pages[s], b, st)
      m.sizes[s] = b + st.values.length
      m.expiresAt[s] = st.expiresAt
      m.timer[s] = st.timer
    }
    m.pages = se.pages
    if (m.sizes[0] + m.sizes[1] === 0) this.meta.delete(id)
    else this.meta.set(id, m)
  }

  /** Writes side `s`'s every row into its `pages` (taking new ones as needed) and drops the pages left over. */
  private writeSide(id: unknown, m: KeyMeta, s: number, pages: number[], st: SideState): void {
    const n = st.values.length
    const used = Math.ceil(n / PAGE)
    for (let j = 0; j < used; j++) {
      if (j === pages.length) pages.push(j === 0 ? HEAD : this.nextSeq++)
      const p = this.pageAt(id, m, s, pages[j])
      if (p === undefined) this.setPage(id, m, s, pages[j], [st.values.slice(j * PAGE, (j + 1) * PAGE), st.matches.slice(j * PAGE, (j + 1) * PAGE)])
      else {
        // The cached page's arrays take the rows (no new arrays for the collector to promote and drop).
        const end = Math.min(n, (j + 1) * PAGE)
        const [values, matches] = p
        values.length = 0
        matches.length = 0
        for (let i = j * PAGE; i < end; i++) {
          values.push(st.values[i])
          matches.push(st.matches[i])
        }
        this.setPage(id, m, s, pages[j], p)
      }
    }
    for (let j = used; j < pages.length; j++) this.dropPage(id, m, s, pages[j])
    pages.length = used
  }

  /** Adds the rows of `st` after the `stored` rows a side's pages hold: the last page's room first, then new pages. */
  private append(id: unknown, m: KeyMeta, s: number, pages: number[], stored: number, st: SideState): void {
    const n = st.values.length
    let i = 0
    const room = (PAGE - (stored % PAGE)) % PAGE
    if (room > 0) {
      const seq = pages[pages.length - 1]
      const p = this.pageAt(id, m, s, seq)
      if (p === undefined) throw internalError(`join: the last stored page of a side of key ${String(id)} is missing from the state store`)
      i = Math.min(room, n)
      for (let j = 0; j < i; j++) {
        p[0].push(st.values[j])
        p[1].push(st.matches[j])
      }
      this.setPage(id, m, s, seq, p)
    }
    for (; i < n; i += PAGE) {
      const seq = pages.length === 0 ? HEAD : this.nextSeq++
      pages.push(seq)
      this.setPage(id, m, s, seq, [st.values.slice(i, i + PAGE), st.matches.slice(i, i + PAGE)])
    }
  }

  put(id: unknown, key: unknown, sides: [SideState, SideState]): void {
    this.close(id, { key, sides, mark: -1, base: [0, 0], pages: [[], []], meta: undefined } as StoredEntry)
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
      const pages = new Map<number, Page>()
      this.state.forEachValue<Page>(this.pagesName, (_id, p, ns) => pages.set(ns as number, p), kg)
      this.state.forEachValue<KeyMeta>(
        this.metaName,
        (_id, m) => {
          const side = (s: number): SideSnapshot => {
            const values: unknown[] = []
            const matches: number[] = []
            for (const seq of m.pages[s]) {
              const p = seq === HEAD ? m.head[s] : pages.get(seq)
              if (p == null) continue
              for (let j = 0; j < p[0].length; j++) {
                values.push(p[0][j])
                matches.push(p[1][j])
              }
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

  /** `listed` itself (one record per key and interval; a delta may read it after `forget`), if the key holds state. */
  current(id: unknown, listed: KeyChange): KeyChange | undefined {
    const m = this.meta.get(id)
    if (m === undefined) return undefined
    this.lastId = id
    this.lastMeta = m
    return listed
  }

  writeDelta(w: KeyedSnapshotWriter, c: KeyChange): void {
    const key = (c as { key: unknown }).key
    const id = keyId(key)
    const m = this.lastMeta !== undefined && this.lastId === id ? this.lastMeta : this.meta.get(id)!
    this.lastMeta = undefined
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
        this.read(id, m, s, kept[s], m.sizes[s], added)
        splices.push([[s, 0], kept[s], added.values], [[s, 1], kept[s], added.matches])
        if (c.old?.[s] === true) {
          const all = { values: [] as unknown[], matches: [] as number[] }
          this.read(id, m, s, 0, kept[s], all)
          sets.push([[s, 1], all.matches.concat(added.matches)])
        }
        sets.push([[s, 2], m.expiresAt[s]], [[s, 3], m.timer[s]])
      }
      w.patch('rows', key, [splices, sets])
    }
    addTimers(w, key, m.timer)
  }
}
