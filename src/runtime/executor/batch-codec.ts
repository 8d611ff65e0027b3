import type { Batch, Position, RowKind } from '../../core/batch.ts'
import { PartialRecord } from '../../operators/aggregate/partial.ts'
import { shapeOf, shapeOfKeys, smallest, type MakeKind, type ReadKind, type Shape } from './record-shape.ts'

/**
 * A batch in the form it crosses threads. `postMessage` clones a batch of records one object and one property
 * at a time (about 2.5 µs for a Nexmark bid on this machine, on each side); most batches are arrays of objects
 * of one shape whose fields are numbers and strings. Such a column goes as numbers (or booleans, as 0 and 1) in
 * the batch's one Float64Array, or as its strings joined into the batch's one string with their lengths in its
 * one Uint32Array, and objects of one shape as a column per property (their numbers and booleans read straight
 * into the Float64Array and rebuilt straight from it, see record-shape.ts): cloning a typed array or one long
 * string is a copy of bytes, and a batch allocates at most three buffers whatever its shape. A combiner's
 * partials (instances of one `PartialRecord` class, which a clone turns into plain objects of their own fields)
 * go as such columns too.
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
  /** The lengths of the strings of every string column (absent when there is none: a buffer less to clone). */
  lens?: Uint32Array
  /** The strings of every string column, joined (absent when there is none). */
  str?: string
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
  /** Booleans as 0 or 1 at `num[at]` to `num[at + n - 1]`. */
  | { k: 'b'; at: number }
  /** Strings whose lengths are at `lens[at]` to `lens[at + n - 1]`, joined in `str` from `from`. */
  | { k: 's'; at: number; from: number }
  | { k: 'o'; keys: string[]; cols: Column[] }
  /** Every value is this one. */
  | { k: 'c'; v: number | string | boolean }
  | { k: 'raw'; a: unknown[] }

/**
 * Columns of numbers, strings or booleans with fewer values go as they are: the arrays would cost more than they
 * save. Objects go as columns however few: a clone rebuilds them with hidden classes of its own, and records of
 * a second hidden class make the operators that read them polymorphic (or megamorphic) for the whole run.
 */
const MIN_ROWS = 4
/** Deeper objects go as they are. */
const MAX_DEPTH = 4

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
  const w: WireBatch = { n, values, times, num: enc.num.slice(0, enc.numAt) }
  if (enc.lensAt > 0) {
    w.lens = enc.lens.slice(0, enc.lensAt)
    // The rope is the batch's now: the next batch starts its own.
    w.str = enc.str
    enc.str = ''
  }
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
  dec.lens = w.lens ?? EMPTY_LENS
  dec.str = w.str ?? ''
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

function toArray(a: Uint8Array): number[] {
  const out = new Array<number>(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]
  return out
}

/** Encodes values by what all of them are, into the batch being encoded (`enc`). */
function encodeColumn(values: unknown[], depth: number): Column {
  const n = values.length
  if (n === 0) return { k: 'raw', a: values }
  const first = values[0]
  if (n < MIN_ROWS && (typeof first !== 'object' || first === null)) return { k: 'raw', a: values }
  // One function per kind of column: each sees few kinds of arrays, so V8 keeps its element loads fast.
  if (typeof first === 'number') return numbers(values, 'n') ?? { k: 'raw', a: values }
  if (typeof first === 'string') return strings(values, first) ?? { k: 'raw', a: values }
  if (typeof first === 'boolean') return numbers(values, 'b') ?? { k: 'raw', a: values }
  const proto = depth < MAX_DEPTH ? columnPrototype(first) : undefined
  if (proto !== undefined) {
    const shape = shapeOf(first as Record<string, unknown>)
    if (shape !== undefined) return objects(values, shape, proto, first as Record<string, unknown>, depth) ?? { k: 'raw', a: values }
  }
  return { k: 'raw', a: values }
}

/**
 * Objects of one shape as a column per property: numbers and booleans read straight into the batch's numbers
 * (by a reader compiled for the kinds of `first`'s properties), the other properties into arrays encoded as
 * columns of their own. Undefined if some value is not of the shape.
 */
function objects(values: unknown[], shape: Shape, proto: object, first: Record<string, unknown>, depth: number): Column | undefined {
  const n = values.length
  const { keys } = shape
  let kinds = ''
  let slots = 0
  for (const k of keys) {
    const t = typeof first[k]
    const kind: ReadKind = t === 'number' ? 'n' : t === 'boolean' ? 'b' : 'x'
    kinds += kind
    if (kind !== 'x') slots++
  }
  const read = slots > 0 ? shape.reader(kinds) : undefined
  const cols: unknown[][] = keys.map((_, j) => (read === undefined || kinds[j] === 'x' ? new Array<unknown>(n) : []))
  if (read !== undefined) {
    const base = enc.numAt
    if (read(values, cols, proto, numRoom(slots * n), base)) return withColumns(keys, kinds, cols, base, n, depth)
    for (let j = 0; j < keys.length; j++) if (kinds[j] !== 'x') cols[j] = new Array<unknown>(n)
  }
  // Some property is not always of the first record's kind: every property goes through its own column.
  if (!shape.extract(values, cols, proto)) return undefined
  const out: Column[] = []
  for (const c of cols) out.push(encodeColumn(c, depth + 1))
  return { k: 'o', keys, cols: out }
}

/**
 * The columns of objects whose number and boolean properties a reader wrote into `enc.num` from `base` (one run
 * of `n` per property, in key order): a run of one value becomes a constant, and the others close up behind
 * it. The properties read into arrays are encoded after.
 */
function withColumns(keys: string[], kinds: string, cols: unknown[][], base: number, n: number, depth: number): Column {
  const num = enc.num
  const out: Column[] = new Array<Column>(keys.length)
  let from = base
  let to = base
  for (let j = 0; j < keys.length; j++) {
    const kind = kinds[j]
    if (kind === 'x') continue
    const v = num[from]
    if (sameRun(num, from, n)) out[j] = { k: 'c', v: kind === 'b' ? v !== 0 : v }
    else {
      if (to !== from) num.copyWithin(to, from, from + n)
      out[j] = { k: kind === 'b' ? 'b' : 'n', at: to }
      to += n
    }
    from += n
  }
  enc.numAt = to
  for (let j = 0; j < keys.length; j++) if (kinds[j] === 'x') out[j] = encodeColumn(cols[j], depth + 1)
  return { k: 'o', keys, cols: out }
}

/** Whether `num[at]` to `num[at + n - 1]` are one value (0 and -0 are two; NaN is never the same). */
function sameRun(num: Float64Array, at: number, n: number): boolean {
  const first = num[at]
  for (let i = at + 1; i < at + n; i++) if (num[i] !== first) return false
  // 0 and -0 compare equal: a run of zeros is one value only if all have the first one's sign.
  if (first === 0) for (let i = at; i < at + n; i++) if (1 / num[i] !== 1 / first) return false
  return true
}

/** Numbers, or booleans as 0 and 1 (`kind` b), into the batch's numbers; a run of one value is a constant. */
function numbers(values: unknown[], kind: 'n' | 'b'): Column | undefined {
  const n = values.length
  const at = enc.numAt
  const a = numRoom(n)
  if (kind === 'n') {
    for (let i = 0; i < n; i++) {
      const v = values[i]
      if (typeof v !== 'number') return undefined
      a[at + i] = v
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = values[i]
      if (typeof v !== 'boolean') return undefined
      a[at + i] = v ? 1 : 0
    }
  }
  if (sameRun(a, at, n)) return { k: 'c', v: kind === 'b' ? a[at] !== 0 : a[at] }
  enc.numAt = at + n
  return { k: kind, at }
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
    case 'b': {
      const out = new Array<boolean>(n)
      const a = dec.num
      for (let i = 0; i < n; i++) out[i] = a[c.at + i] !== 0
      return out
    }
    case 'o':
      return decodeObjects(c, n)
    case 'c':
      return new Array<unknown>(n).fill(typeof c.v === 'number' ? smallest(c.v) : c.v)
    case 'raw':
      return c.a
  }
}

/** Objects rebuilt by a function compiled for their keys and the kinds of their columns: numbers straight from `dec.num`. */
function decodeObjects(c: Extract<Column, { k: 'o' }>, n: number): unknown[] {
  const m = c.cols.length
  let kinds = ''
  const at = new Array<number>(m).fill(0)
  const cv = new Array<unknown>(m).fill(undefined)
  const cols = new Array<unknown[]>(m)
  for (let j = 0; j < m; j++) {
    const col = c.cols[j]
    let kind: MakeKind = 'x'
    if (col.k === 'n' || col.k === 'b') {
      kind = col.k
      at[j] = col.at
    } else if (col.k === 'c') {
      kind = 'c'
      cv[j] = typeof col.v === 'number' ? smallest(col.v) : col.v
    }
    kinds += kind
  }
  const shape = shapeOfKeys(c.keys)
  let make = shape.maker(kinds)
  if (make === undefined) {
    kinds = 'x'.repeat(m)
    make = shape.make
  }
  for (let j = 0; j < m; j++) cols[j] = kinds[j] === 'x' ? decodeColumn(c.cols[j], n) : []
  const out = new Array<unknown>(n)
  make(dec.num, at, cv, cols, out, n)
  return out
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
