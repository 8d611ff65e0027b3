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

/** A sink that counts result records and, when `table` is given, applies them to it. */
export function resultSink<R>(table?: ResultTable<R>): Sink<R> & { readonly records: number } {
  let records = 0
  return {
    // A table in memory is filled on the main thread; counting alone runs in every subtask.
    ...({ singleSubtask: table !== undefined } as object),
    kind: 'nexmark-results',
    guarantee: 'none',
    describe: () => ({ kind: 'nexmark-results', materialized: table !== undefined }),
    open: () => ({
      write(batch) {
        records += batch.values.length
        if (table !== undefined) table.apply(batch)
      },
      close() {},
    }),
    get records() {
      return records
    },
  }
}
