import type { Batch, Sink } from '../../src/index.ts'

const UPDATE_BEFORE = 1
const DELETE = 3

/**
 * The final results of a query: its changelog applied. With an identity, the last row per identity
 * (+I/+U set it, -U/-D remove it); without, a multiset of rows (-U/-D remove one equal row).
 */
export class ResultTable<R> {
  private readonly identity: ((row: R) => unknown) | undefined
  private readonly byId = new Map<unknown, R>()
  private appended: R[] = []
  private multiset: Map<string, { row: R; n: number }> | undefined
  records = 0

  constructor(identity?: (row: R) => unknown) {
    this.identity = identity
  }

  apply(batch: Batch<R>): void {
    const { values, kinds } = batch
    this.records += values.length
    const identity = this.identity
    if (identity !== undefined) {
      for (let i = 0; i < values.length; i++) {
        const k = kinds === undefined ? 0 : kinds[i]
        if (k === UPDATE_BEFORE || k === DELETE) this.byId.delete(identity(values[i]))
        else this.byId.set(identity(values[i]), values[i])
      }
      return
    }
    if (kinds === undefined && this.multiset === undefined) {
      for (const v of values) this.appended.push(v)
      return
    }
    const m = this.toMultiset()
    for (let i = 0; i < values.length; i++) {
      const key = JSON.stringify(values[i])
      const k = kinds === undefined ? 0 : kinds[i]
      const e = m.get(key)
      if (k === UPDATE_BEFORE || k === DELETE) {
        if (e !== undefined && --e.n === 0) m.delete(key)
      } else if (e === undefined) m.set(key, { row: values[i], n: 1 })
      else e.n++
    }
  }

  private toMultiset(): Map<string, { row: R; n: number }> {
    if (this.multiset === undefined) {
      this.multiset = new Map()
      for (const v of this.appended) {
        const key = JSON.stringify(v)
        const e = this.multiset.get(key)
        if (e === undefined) this.multiset.set(key, { row: v, n: 1 })
        else e.n++
      }
      this.appended = []
    }
    return this.multiset
  }

  rows(): R[] {
    if (this.identity !== undefined) return [...this.byId.values()]
    if (this.multiset === undefined) return this.appended
    const out: R[] = []
    for (const { row, n } of this.multiset.values()) for (let i = 0; i < n; i++) out.push(row)
    return out
  }
}

/** A row as canonical text: its columns in order, integers as they are, other numbers to 12 significant digits. */
export function canonicalRow(row: object, columns: readonly string[]): string {
  const r = row as Record<string, unknown>
  return JSON.stringify(
    columns.map((c) => {
      const v = r[c] ?? null
      if (typeof v === 'bigint') return Number(v)
      return typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v
    }),
  )
}

const MOD = 2 ** 52

/** 52 bits of hash of a row's canonical text (two 32-bit multiplicative hashes of different seeds), as a number. */
function rowHash(row: object, columns: readonly string[]): number {
  const line = canonicalRow(row, columns)
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15)
  }
  return (a >>> 0) * 2 ** 20 + ((b >>> 0) >>> 12)
}

/**
 * A multiset of rows as a digest that holds no row: how many, and the sum (mod 2^52) of a hash of each one's
 * canonical text. Equal multisets give equal digests; different ones almost surely do not. What compares a
 * query's millions of results with DuckDB's in a small heap.
 */
export class RowDigest {
  private count = 0
  private sum = 0

  /** Adds one row (`sign` 1) or takes one out (-1), by its hash. */
  addHash(h: number, sign: 1 | -1 = 1): void {
    this.count += sign
    this.sum = (((this.sum + sign * h) % MOD) + MOD) % MOD
  }

  add(row: object, columns: readonly string[]): void {
    this.addHash(rowHash(row, columns))
  }

  get value(): string {
    return `${this.count} rows, ${this.sum.toString(16).padStart(13, '0')}`
  }
}

/** The digest of `rows`. */
export function digestRows(rows: Iterable<object>, columns: readonly string[]): string {
  const d = new RowDigest()
  for (const r of rows) d.add(r, columns)
  return d.value
}

/**
 * A query's final results (its changelog applied, as `ResultTable` applies it) as a `RowDigest`: with an
 * identity, the hash of each identity's current row is kept to be taken out when it changes; without, a
 * retraction takes its row's hash out. Holds no row.
 */
export class ResultDigest<R> {
  private readonly columns: readonly string[]
  private readonly identity: ((row: R) => unknown) | undefined
  private readonly byId = new Map<unknown, number>()
  private readonly digest = new RowDigest()

  constructor(columns: readonly string[], identity?: (row: R) => unknown) {
    this.columns = columns
    this.identity = identity
  }

  apply(batch: Batch<R>): void {
    const { values, kinds } = batch
    for (let i = 0; i < values.length; i++) {
      const k = kinds === undefined ? 0 : kinds[i]
      const retract = k === UPDATE_BEFORE || k === DELETE
      if (this.identity === undefined) {
        this.digest.addHash(rowHash(values[i] as object, this.columns), retract ? -1 : 1)
        continue
      }
      const id = this.identity(values[i])
      const old = this.byId.get(id)
      if (old !== undefined) {
        this.digest.addHash(old, -1)
        this.byId.delete(id)
      }
      if (retract) continue
      const h = rowHash(values[i] as object, this.columns)
      this.byId.set(id, h)
      this.digest.addHash(h)
    }
  }

  get value(): string {
    return this.digest.value
  }
}

/** A sink that counts result records and, when `table` is given, applies them to it (a table or a digest). */
export function resultSink<R>(table?: { apply(batch: Batch<R>): void }): Sink<R> & { readonly records: number; readonly tableCpuSeconds: number } {
  let records = 0
  let tableCpu = 0
  return {
    // A table in memory is filled on the main thread; counting alone runs in every subtask.
    ...({ singleSubtask: table !== undefined } as object),
    kind: 'nexmark-results',
    guarantee: 'none',
    describe: () => ({ kind: 'nexmark-results', materialized: table !== undefined }),
    open: () => ({
      write(batch) {
        records += batch.values.length
        if (table === undefined) return
        // Timed: keeping results for a comparison is not the query's work.
        const cpu0 = process.cpuUsage()
        table.apply(batch)
        const cpu = process.cpuUsage(cpu0)
        tableCpu += (cpu.user + cpu.system) / 1e6
      },
      close() {},
    }),
    get records() {
      return records
    },
    get tableCpuSeconds() {
      return tableCpu
    },
  }
}
