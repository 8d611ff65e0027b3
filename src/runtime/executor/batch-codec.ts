import type { Batch, Position, RowKind } from '../../core/batch.ts'

/**
 * A batch in the form it crosses threads. `postMessage` clones a batch of records one object and one property
 * at a time (about 2.5 µs for a Nexmark bid on this machine, on each side); most batches are arrays of objects
 * of one shape whose fields are numbers and strings. Such a column goes as a Float64Array, or as its strings
 * joined into one string with their lengths, and objects of one shape as a column per property: cloning a
 * typed array or one long string is a copy of bytes. Whatever does not fit (mixed types, class instances,
 * dates, arrays, undefined) goes as it is and is cloned as before.
 *
 * Decoded records are equal to what a clone gives, with two differences: an object that a batch holds twice
 * arrives as two equal objects, and a string of 13 characters or more is a slice of its column's joined string,
 * which stays in memory while any of its slices does (a column is one batch's strings of one field).
 */
export interface WireBatch {
  n: number
  values: Column
  times: Float64Array
  keys?: Column
  kinds?: Uint8Array
  pos?: Column
  /** The batch's ingestion time. */
  at?: number
  /** The batch's trace context (`traceparent`). */
  tp?: string
  /** Per record trace contexts, as they are (few batches have them). */
  tps?: (string | undefined)[]
}

/** A column of `n` values. */
export type Column =
  | { k: 'n'; a: Float64Array }
  | { k: 's'; lengths: Uint32Array; joined: string }
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

export function encodeBatch(b: Batch): WireBatch {
  const n = b.values.length
  const w: WireBatch = { n, values: encodeColumn(b.values, 0), times: Float64Array.from(b.times) }
  if (b.keys !== undefined) w.keys = encodeColumn(b.keys, 0)
  if (b.kinds !== undefined) w.kinds = Uint8Array.from(b.kinds)
  if (b.pos !== undefined) w.pos = encodeColumn(b.pos, 0)
  if (b.ingestedAt !== undefined) w.at = b.ingestedAt
  if (b.trace !== undefined) w.tp = b.trace
  if (b.traces !== undefined) w.tps = b.traces
  return w
}

export function decodeBatch(w: WireBatch): Batch {
  const b: Batch = { values: decodeColumn(w.values, w.n), times: toArray(w.times) }
  if (w.keys !== undefined) b.keys = decodeColumn(w.keys, w.n)
  if (w.kinds !== undefined) b.kinds = toArray(w.kinds) as RowKind[]
  if (w.pos !== undefined) b.pos = decodeColumn(w.pos, w.n) as Position[]
  if (w.at !== undefined) b.ingestedAt = w.at
  if (w.tp !== undefined) b.trace = w.tp
  if (w.tps !== undefined) b.traces = w.tps
  return b
}

/**
 * The numbers of a column, integers as V8's small integers, as a source's own code makes them. A typed array
 * gives boxed doubles: a record field that holds small integers from the source and boxed doubles from the
 * decoder makes V8 give up the fast layout of every record of that shape, and deoptimise the operators that
 * read them.
 */
function numbersOf(a: Float64Array): number[] {
  const out = new Array<number>(a.length)
  for (let i = 0; i < a.length; i++) {
    const v = a[i]
    const t = v | 0
    out[i] = t === v && (t !== 0 || 1 / v > 0) ? t : v
  }
  return out
}

/** `v` as a small integer if it is one (-0 stays -0). */
const smallest = (v: number): number => ((v | 0) === v && (v !== 0 || 1 / v > 0) ? v | 0 : v)

function toArray(a: Float64Array | Uint8Array): number[] {
  const out = new Array<number>(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]
  return out
}

/** Encodes values by what all of them are. */
export function encodeColumn(values: unknown[], depth: number): Column {
  const n = values.length
  if (n < MIN_ROWS) return { k: 'raw', a: values }
  const first = values[0]
  // One function per kind of column: each sees few kinds of arrays, so V8 keeps its element loads fast.
  if (typeof first === 'number') return numbers(values, first) ?? { k: 'raw', a: values }
  if (typeof first === 'string') return strings(values, first) ?? { k: 'raw', a: values }
  if (depth < MAX_DEPTH && isPlain(first)) {
    const shape = shapeOf(first)
    if (shape !== undefined) {
      const cols: unknown[][] = shape.keys.map(() => new Array<unknown>(n))
      if (shape.extract(values, cols)) {
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
  const a = new Float64Array(n)
  let same = true
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (typeof v !== 'number') return undefined
    a[i] = v
    if (v !== first) same = false
  }
  // NaN is never the same; -0 and 0 are, but a constant column must keep which one it is.
  return same && !Object.is(first, -0) ? { k: 'c', v: first } : { k: 'n', a }
}

function strings(values: unknown[], first: string): Column | undefined {
  const n = values.length
  const lengths = new Uint32Array(n)
  let joined = ''
  let same = true
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (typeof v !== 'string') return undefined
    lengths[i] = v.length
    // Concatenation makes a rope that postMessage flattens in one copy (Array.prototype.join costs more).
    joined += v
    if (v !== first) same = false
  }
  return same ? { k: 'c', v: first } : { k: 's', lengths, joined }
}

export function decodeColumn(c: Column, n: number): unknown[] {
  switch (c.k) {
    case 'n':
      return numbersOf(c.a)
    case 's': {
      const out = new Array<string>(n)
      const { lengths, joined } = c
      let at = 0
      for (let i = 0; i < n; i++) {
        const end = at + lengths[i]
        out[i] = joined.substring(at, end)
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

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype

interface Shape {
  keys: string[]
  /** Fills a column per key; false if some value is not a plain object with exactly these keys in this order. */
  extract(values: unknown[], cols: unknown[][]): boolean
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
    'OP',
    'KS',
    `return function extract(values, cols) {
      ${decl}
      for (let i = 0; i < values.length; i++) {
        const r = values[i]
        if (typeof r !== 'object' || r === null || Object.getPrototypeOf(r) !== OP) return false
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
  )(Object.prototype, keys) as Shape['extract']
  const make = new Function('c', 'i', `return { ${lit.map((k, j) => `${k}: c[${j}][i]`).join(', ')} }`) as Shape['make']
  return { keys, extract, make }
}
