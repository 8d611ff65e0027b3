import type { AggregateFunction } from './aggregate-function.ts'
import { keyId } from '../../core/key.ts'
import { userError } from '../../core/errors.ts'

type Num<T> = (value: T) => number

/**
 * Number of records.
 * @example stream.keyBy((c) => c.page).window(window.tumbling({ size: '1m' })).aggregate(agg.count()) // value: 42
 */
function count<T = unknown>(): AggregateFunction<T, number, number> {
  return {
    name: 'count',
    exactMerge: true,
    create: () => 0,
    add: (a) => a + 1,
    merge: (a, b) => a + b,
    result: (a) => a,
    retract: (a) => a - 1,
  }
}

/**
 * Sum of a numeric field.
 * @example agg.sum((o: Order) => o.amount) // value: 129.5
 */
function sum<T>(field: Num<T>): AggregateFunction<T, number, number> {
  return {
    name: 'sum',
    exactMerge: true,
    create: () => 0,
    add: (a, v) => a + field(v),
    merge: (a, b) => a + b,
    result: (a) => a,
    retract: (a, v) => a - field(v),
  }
}

/**
 * Smallest value of a numeric field; null for an empty group. With `{ retractable: true }` it keeps every
 * value's multiplicity so it can consume a changelog (costs memory per distinct value).
 * @example agg.min((b: Bid) => b.price) // value: 3 (null for an empty group)
 */
function min<T>(field: Num<T>, opts: { retractable?: boolean } = {}): AggregateFunction<T, MinMaxAcc, number | null> {
  return extreme('min', field, (a, b) => a < b, opts.retractable ?? false)
}

/**
 * Largest value of a numeric field; null for an empty group. See `min` for `retractable`.
 * @example agg.max((b: Bid) => b.price) // value: 99
 */
function max<T>(field: Num<T>, opts: { retractable?: boolean } = {}): AggregateFunction<T, MinMaxAcc, number | null> {
  return extreme('max', field, (a, b) => a > b, opts.retractable ?? false)
}

interface MinMaxAcc {
  best: number | null
  /** Kept only when retractable: value -> multiplicity. */
  counts: Map<number, number> | null
}

function extreme<T>(name: string, field: Num<T>, better: (a: number, b: number) => boolean, retractable: boolean): AggregateFunction<T, MinMaxAcc, number | null> {
  const agg: AggregateFunction<T, MinMaxAcc, number | null> = {
    name,
    exactMerge: true,
    create: () => ({ best: null, counts: retractable ? new Map() : null }),
    add: (acc, v) => {
      const x = field(v)
      if (acc.best === null || better(x, acc.best)) acc.best = x
      if (acc.counts !== null) acc.counts.set(x, (acc.counts.get(x) ?? 0) + 1)
      return acc
    },
    merge: (a, b) => {
      if (b.best !== null && (a.best === null || better(b.best, a.best))) a.best = b.best
      if (a.counts !== null && b.counts !== null) for (const [x, c] of b.counts) a.counts.set(x, (a.counts.get(x) ?? 0) + c)
      return a
    },
    result: (acc) => acc.best,
  }
  if (retractable) {
    agg.retract = (acc, v) => {
      const counts = acc.counts!
      const x = field(v)
      const c = counts.get(x) ?? 0
      if (c <= 1) counts.delete(x)
      else counts.set(x, c - 1)
      if (x === acc.best && c <= 1) {
        acc.best = null
        for (const y of counts.keys()) if (acc.best === null || better(y, acc.best)) acc.best = y
      }
      return acc
    }
  }
  return agg
}

/**
 * Mean of a numeric field; null for an empty group.
 * @example agg.avg((r: Reading) => r.celsius) // value: 21.4
 */
function avg<T>(field: Num<T>): AggregateFunction<T, { sum: number; n: number }, number | null> {
  return {
    name: 'avg',
    exactMerge: true,
    create: () => ({ sum: 0, n: 0 }),
    add: (a, v) => ((a.sum += field(v)), a.n++, a),
    merge: (a, b) => ((a.sum += b.sum), (a.n += b.n), a),
    result: (a) => (a.n === 0 ? null : a.sum / a.n),
    retract: (a, v) => ((a.sum -= field(v)), a.n--, a),
  }
}

/**
 * The first record by event order of arrival (or of a field).
 * @example agg.first((c: Click) => c.page) // value: '/home', the landing page of a session
 */
function first<T, R = T>(field?: (value: T) => R): AggregateFunction<T, { set: boolean; v: R | null }, R | null> {
  const f = field ?? ((v: T) => v as unknown as R)
  return {
    name: 'first',
    exactMerge: true,
    create: () => ({ set: false, v: null }),
    add: (a, v) => (a.set ? a : { set: true, v: f(v) }),
    merge: (a, b) => (a.set ? a : b),
    result: (a) => a.v,
  }
}

/**
 * The last record to arrive (or a field of it).
 * @example agg.last((c: Click) => c.page) // value: '/checkout', the exit page of a session
 */
function last<T, R = T>(field?: (value: T) => R): AggregateFunction<T, { set: boolean; v: R | null }, R | null> {
  const f = field ?? ((v: T) => v as unknown as R)
  return {
    name: 'last',
    exactMerge: true,
    create: () => ({ set: false, v: null }),
    add: (a, v) => ((a.set = true), (a.v = f(v)), a),
    merge: (a, b) => (b.set ? b : a),
    result: (a) => a.v,
  }
}

/**
 * Exact number of distinct values of a field (keeps the set of values).
 * @example agg.countDistinct((c: Click) => c.userId) // value: 17 distinct users
 */
function countDistinct<T>(field: (value: T) => unknown): AggregateFunction<T, Map<unknown, number>, number> {
  return {
    name: 'countDistinct',
    exactMerge: true,
    create: () => new Map(),
    add: (s, v) => {
      const k = keyId(field(v))
      s.set(k, (s.get(k) ?? 0) + 1)
      return s
    },
    merge: (a, b) => {
      for (const [k, c] of b) a.set(k, (a.get(k) ?? 0) + c)
      return a
    },
    result: (s) => s.size,
    retract: (s, v) => {
      const k = keyId(field(v))
      const c = s.get(k) ?? 0
      if (c <= 1) s.delete(k)
      else s.set(k, c - 1)
      return s
    },
  }
}

/**
 * The `n` records with the highest `by` (descending; ties keep arrival order). Keeps at most n records
 * when nothing is retracted.
 * @example agg.topN(3, (b: Bid) => b.price) // value: the three highest bids, highest first
 */
function topN<T>(n: number, by: Num<T>, order: 'desc' | 'asc' = 'desc'): AggregateFunction<T, T[], T[]> {
  if (!Number.isInteger(n) || n < 1) throw userError('SLUICE_BAD_OPTION', `agg.topN: n must be a positive integer, got ${n}`)
  const before = order === 'desc' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b
  const insert = (list: T[], v: T) => {
    const x = by(v)
    let i = list.length
    while (i > 0 && before(x, by(list[i - 1]))) i--
    if (i >= n) return list
    list.splice(i, 0, v)
    if (list.length > n) list.length = n
    return list
  }
  return {
    name: 'topN',
    exactMerge: true,
    create: () => [],
    add: insert,
    merge: (a, b) => {
      for (const v of b) insert(a, v)
      return a
    },
    result: (a) => a.slice(),
  }
}

type AggMap = Record<string, AggregateFunction<any, any, any>>
type FieldsResult<M extends AggMap> = { [K in keyof M]: M[K] extends AggregateFunction<any, any, infer R> ? R : never }
type FieldsInput<M extends AggMap> = M[keyof M] extends AggregateFunction<infer T, any, any> ? T : never

/**
 * Several aggregates over the same records, as one object.
 * @example agg.fields({ n: agg.count(), total: agg.sum(b => b.price) }) // -> { n: 3, total: 42 }
 */
function fields<M extends AggMap>(aggs: M): AggregateFunction<FieldsInput<M>, unknown[], FieldsResult<M>> {
  const names = Object.keys(aggs)
  const fs = names.map((k) => aggs[k])
  const canRetract = fs.every((f) => f.retract !== undefined)
  const agg: AggregateFunction<FieldsInput<M>, unknown[], FieldsResult<M>> = {
    name: `fields(${names.join(',')})`,
    ...(fs.every((f) => f.exactMerge === true) ? { exactMerge: true } : {}),
    create: () => fs.map((f) => f.create()),
    add: (acc, v) => {
      for (let i = 0; i < fs.length; i++) acc[i] = fs[i].add(acc[i], v)
      return acc
    },
    merge: (a, b) => {
      for (let i = 0; i < fs.length; i++) a[i] = fs[i].merge(a[i], b[i])
      return a
    },
    result: (acc) => {
      const out: Record<string, unknown> = {}
      for (let i = 0; i < fs.length; i++) out[names[i]] = fs[i].result(acc[i])
      return out as FieldsResult<M>
    },
  }
  if (canRetract) {
    agg.retract = (acc, v) => {
      for (let i = 0; i < fs.length; i++) acc[i] = fs[i].retract!(acc[i], v)
      return acc
    }
  }
  return agg
}

/**
 * Reduce records pairwise; the result has the record's type.
 * @example agg.reduce((a: Bid, b: Bid) => (b.price > a.price ? b : a)) // value: the highest bid
 */
function reduce<T>(fn: (a: T, b: T) => T): AggregateFunction<T, { set: boolean; v: T | undefined }, T> {
  return {
    name: 'reduce',
    create: () => ({ set: false, v: undefined }),
    add: (a, v) => (a.set ? ((a.v = fn(a.v as T, v)), a) : { set: true, v }),
    merge: (a, b) => (!b.set ? a : !a.set ? b : { set: true, v: fn(a.v as T, b.v as T) }),
    result: (a) => a.v as T,
  }
}

/**
 * Built-in aggregates; any object with create/add/merge/result is one too.
 * @example orders.keyBy((o) => o.country).aggregate(agg.fields({ orders: agg.count(), revenue: agg.sum((o: Order) => o.amount) }))
 */
export const agg = { count, sum, min, max, avg, first, last, countDistinct, topN, fields, reduce }
