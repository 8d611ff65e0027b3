import type { Batch, Position, RowKind } from '../../core/batch.ts'
import { PartialRecord } from '../../operators/aggregate/partial.ts'

/**
 * A batch in the form it crosses threads. `postMessage` clones a batch of records one object and one property
 * at a time (about 2.5 µs for a Nexmark bid on this machine, on each side); most batches are arrays of objects
 * of one shape whose fields are numbers and strings. Such a column goes as numbers in the batch's one
 * Float64Array, or as its strings joined into the batch's one string with their lengths in its one Uint32Array,
 * and objects of one shape as a column per property: cloning a typed array or one long string is a copy of
 * bytes, and a batch allocates three buffers whatever its shape. A combiner's partials (instances of one
 * `PartialRecord` class, which a clone turns into plain objects of their own fields) go as such columns too.
 * Whatever does not fit (mixed types, other class instances, dates, arrays, undefined) goes as it is and is
 * cloned as before.
 *
 * Decoded records are equal to what a clone gives, with two differences: an object that a batch holds twice
 * arrives as two equal objects, and a string of 13 characters or more is a slice of the batch's joined string,
 * which stays in memory while any of its slices does.
 */
export interface WireBatch {
  n: number
  values: Column
  /** Offset of the batch's times in `num`. */
  times: number
  keys?: Column
  kinds?: Uint8Array
  pos?: Column
  /** The numbers of every number column, and the times. */
  num: Float64Array
  /** The lengths of the strings of every string column. */
  lens: Uint32Array
  /** The strings of every string column, joined. */
  str: string
  /** The batch's ingestion time. */
  at?: number
  /** The batch's trace context (`traceparent`). */
  tp?: string
  /** Per record trace contexts, as they are (few batches have them). */
  tps?: (string | undefined)[]
}

/** A column of `n` values. */
export type Column =
  /** Numbers at `num[at]` to `num[at + n - 1]`. */
  | { k: 'n'; at: number }
  /** Strings whose lengths are at `lens[at]` to `lens[at + n - 1]`, joined in `str` from `from`. */
  | { k: 's'; at: number; from: number }
  | { k: 'o'; keys: string[]; cols: Column[] }
  /** Every value is this one. */
  | { k: 'c'; v: number | string }
  | { k: 'raw'; a: unknown[] }

/** Columns with fewer values go as they are: the arrays would cost more than they save. */
const MIN_ROWS = 4
/** Deeper objects go as they are. */
const MAX_DEPTH = 4
/** Objects with more properties go as they are. */
const MAX_KEYS = 64
/** Shapes remembered per thread; records with ever new property names go as they are once this many are known. */
const MAX_SHAPES = 1024

/**
 * The batch being encoded: its numbers and string lengths written into buffers kept from batch to batch (copied
 * out at the end, at their exact size), its strings concatenated (a rope that postMessage flattens in one copy;
 * `Array.prototype.join` costs more). Encoding is synchronous: one batch at a time per thread.
 */
const enc = { num: new Float64Array(4096), numAt: 0, lens: new Uint32Array(4096), lensAt: 0, str: '' }

/** The batch being decoded. */
const EMPTY_NUM = new Float64Array(0)
const EMPTY_LENS = new Uint32Array(0)
const dec: { num: Float64Array; lens: Uint32Array; str: string } = { num: EMPTY_NUM, lens: EMPTY_LENS, str: '' }

/** `a`, or a copy twice as large (at least `at + n`) holding its first `at` entries when `n` more do not fit. */
function room<A extends Float64Array | Uint32Array>(a: A, at: number, n: number, make: (length: number) => A): A {
  if (at + n <= a.length) return a
  const grown = make(Math.max(a.length * 2, at + n))
  grown.set(a.subarray(0, at))
  return grown
}

function numRoom(n: number): Float64Array {
  return (enc.num = room(enc.num, enc.numAt, n, (l) => new Float64Array(l)))
}

function lensRoom(n: number): Uint32Array {
  return (enc.lens = room(enc.lens, enc.lensAt, n, (l) => new Uint32Array(l)))
}

export function encodeBatch(b: Batch): WireBatch {
  const n = b.values.length
  enc.numAt = 0
  enc.lensAt = 0
  enc.str = ''
  const values = encodeColumn(b.values, 0)
  const keys = b.keys === undefined ? undefined : encodeColumn(b.keys, 0)
  const pos = b.pos === undefined ? undefined : encodeColumn(b.pos, 0)
  const times = enc.numAt
  const num = numRoom(n)
  const t = b.times
  for (let i = 0; i < n; i++) num[times + i] = t[i]
  enc.numAt += n
  const w: WireBatch = { n, values, times, num: enc.num.slice(0, enc.numAt), lens: enc.lens.slice(0, enc.lensAt), str: enc.str }
  // The rope is the batch's now: the next batch starts its own.
  enc.str = ''
  if (keys !== undefined) w.keys = keys
  if (b.kinds !== undefined) w.kinds = Uint8Array.from(b.kinds)
  if (pos !== undefined) w.pos = pos
  if (b.ingestedAt !== undefined) w.at = b.ingestedAt
  if (b.trace !== undefined) w.tp = b.trace
  if (b.traces !== undefined) w.tps = b.traces
  return w
}

export function decodeBatch(w: WireBatch): Batch {
  dec.num = w.num
  dec.lens = w.lens
  dec.str = w.str
  try {
    const b: Batch = { values: decodeColumn(w.values, w.n), times: numbersAt(w.times, w.n) }
    if (w.keys !== undefined) b.keys = decodeColumn(w.keys, w.n)
    if (w.kinds !== undefined) b.kinds = toArray(w.kinds) as RowKind[]
    if (w.pos !== undefined) b.pos = decodeColumn(w.pos, w.n) as Position[]
    if (w.at !== undefined) b.ingestedAt = w.at
    if (w.tp !== undefined) b.trace = w.tp
    if (w.tps !== undefined) b.traces = w.tps
    return b
  } finally {
    // Not kept alive by this module once decoded.
    dec.num = EMPTY_NUM
    dec.lens = EMPTY_LENS
    dec.str = ''
  }
}


/**
 * The `n` numbers at `dec.num[at]`, integers as V8's small integers, as a source's own code makes them. A typed
 * array gives boxed doubles: a record field that holds small integers from the source and boxed doubles from the
 * decoder makes V8 give up the fast layout of every record of that shape, and deoptimise the operators that
 * read them.
 */
function numbersAt(at: number, n: number): number[] {
  const a = dec.num
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const v = a[at + i]
    const t = v | 0
    out[i] = t === v && (t !== 0 || 1 / v > 0) ? t : v
  }
  return out
}

/** `v` as a small integer if it is one (-0 stays -0). */
const smallest = (v: number): number => ((v | 0) === v && (v !== 0 || 1 / v > 0) ? v | 0 : v)

function toArray(a: Uint8Array): number[] {
  const out = new Array<number>(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]
  return out
}

/** Encodes values by what all of them are, into the batch being encoded (`enc`). */
function encodeColumn(values: unknown[], depth: number): Column {
  const n = values.length
  if (n < MIN_ROWS) return { k: 'raw', a: values }
  const first = values[0]
  // One function per kind of column: each sees few kinds of arrays, so V8 keeps its element loads fast.
  if (typeof first === 'number') return numbers(values, first) ?? { k: 'raw', a: values }
  if (typeof first === 'string') return strings(values, first) ?? { k: 'raw', a: values }
  const proto = depth < MAX_DEPTH ? columnPrototype(first) : undefined
  if (proto !== undefined) {
    const shape = shapeOf(first as Record<string, unknown>)
    if (shape !== undefined) {
      const cols: unknown[][] = shape.keys.map(() => new Array<unknown>(n))
      if (shape.extract(values, cols, proto)) {
        const out: Column[] = []
        for (const c of cols) out.push(encodeColumn(c, depth + 1))
        return { k: 'o', keys: shape.keys, cols: out }
      }
    }
  }
  return { k: 'raw', a: values }
}

function numbers(values: unknown[], first: number): Column | undefined {
  const n = values.length
  const at = enc.numAt
  const a = numRoom(n)
  let same = true
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (typeof v !== 'number') return undefined
    a[at + i] = v
    if (v !== first) same = false
  }
  // NaN is never the same; -0 and 0 are, but a constant column must keep which one it is.
  if (same && !Object.is(first, -0)) return { k: 'c', v: first }
  enc.numAt = at + n
  return { k: 'n', at }
}

function strings(values: unknown[], first: string): Column | undefined {
  const n = values.length
  const at = enc.lensAt
  const lengths = lensRoom(n)
  let joined = ''
  let same = true
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (typeof v !== 'string') return undefined
    lengths[at + i] = v.length
    joined += v
    if (v !== first) same = false
  }
  if (same) return { k: 'c', v: first }
  const from = enc.str.length
  enc.str += joined
  enc.lensAt = at + n
  return { k: 's', at, from }
}

function decodeColumn(c: Column, n: number): unknown[] {
  switch (c.k) {
    case 'n':
      return numbersAt(c.at, n)
    case 's': {
      const out = new Array<string>(n)
      const { lens, str } = dec
      let at = c.from
      for (let i = 0; i < n; i++) {
        const end = at + lens[c.at + i]
        out[i] = str.substring(at, end)
        at = end
      }
      return out
    }
    case 'o': {
      const cols = c.cols.map((x) => decodeColumn(x, n))
      const make = shapeOfKeys(c.keys).make
      const out = new Array<unknown>(n)
      for (let i = 0; i < n; i++) out[i] = make(cols, i)
      return out
    }
    case 'c':
      return new Array<unknown>(n).fill(typeof c.v === 'number' ? smallest(c.v) : c.v)
    case 'raw':
      return c.a
  }
}

/**
 * The prototype of the objects a column of `first` may hold to go as columns: Object.prototype, or the class of a
 * combiner's partial (its fields are data only; it arrives as the plain object a clone would give).
 */
function columnPrototype(first: unknown): object | undefined {
  if (typeof first !== 'object' || first === null) return undefined
  const proto = Object.getPrototypeOf(first) as object | null
  if (proto === Object.prototype || (proto !== null && first instanceof PartialRecord && Object.getPrototypeOf(proto) === PartialRecord.prototype)) return proto
  return undefined
}

interface Shape {
  keys: string[]
  /** Fills a column per key; false if some value is not an object of prototype `proto` with exactly these keys in this order. */
  extract(values: unknown[], cols: unknown[][], proto: object): boolean
  /** Record `i` of the columns, as an object literal (one hidden class for all). */
  make(cols: unknown[][], i: number): unknown
}

const shapes = new Map<string, Shape | undefined>()

/** The compiled shape of `o`'s keys, or undefined when they cannot be written as an object literal. */
function shapeOf(o: Record<string, unknown>): Shape | undefined {
  const keys = Object.keys(o)
  const id = JSON.stringify(keys)
  let s = shapes.get(id)
  if (s === undefined && !shapes.has(id)) {
    if (shapes.size >= MAX_SHAPES) return undefined
    s = compile(keys)
    shapes.set(id, s)
  }
  return s
}

/** The decoder's shape of `keys` (which a sender compiled). */
function shapeOfKeys(keys: string[]): Shape {
  const id = JSON.stringify(keys)
  let s = shapes.get(id)
  if (s === undefined) {
    s = compile(keys)!
    if (shapes.size < MAX_SHAPES) shapes.set(id, s)
  }
  return s
}

function compile(keys: string[]): Shape | undefined {
  // A literal cannot hold `__proto__` as an own property, and puts index-like keys first, out of order.
  if (keys.length === 0 || keys.length > MAX_KEYS || keys.some((k) => k === '__proto__' || /^(0|[1-9][0-9]*)$/.test(k))) return undefined
  const lit = keys.map((k) => JSON.stringify(k))
  const decl = keys.map((_, j) => `const c${j} = cols[${j}];`).join('\n')
  const fill = lit.map((k, j) => `c${j}[i] = r[${k}];`).join('\n')
  // for-in rather than Object.keys: no array per record (a polluted Object.prototype only makes records go as they are).
  const extract = new Function(
    'KS',
    `return function extract(values, cols, proto) {
      ${decl}
      for (let i = 0; i < values.length; i++) {
        const r = values[i]
        if (typeof r !== 'object' || r === null || Object.getPrototypeOf(r) !== proto) return false
        let j = 0
        for (const k in r) {
          if (j === ${keys.length} || k !== KS[j]) return false
          j++
        }
        if (j !== ${keys.length}) return false
        ${fill}
      }
      return true
    }`,
  )(keys) as Shape['extract']
  const make = new Function('c', 'i', `return { ${lit.map((k, j) => `${k}: c[${j}][i]`).join(', ')} }`) as Shape['make']
  return { keys, extract, make }
}
