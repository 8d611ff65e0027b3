import { SluiceError } from '../core/errors.ts'
import type { ByteReader, ByteWriter } from './bytes.ts'

/**
 * A columnar binary form of snapshot data. Keyed state is mostly long arrays of values of one shape (rows,
 * accumulators, join inputs): v8's serializer writes every object with all its property names, one object at
 * a time, and creates them back one at a time, which for millions of small rows is most of a checkpoint's
 * cost. Shredding such an array into columns (as Parquet and Arrow do) leaves long runs of one kind: integers
 * written as variable-length differences from the one before (a position, a count or a timestamp in order takes
 * a byte or two), other numbers as 8-byte doubles, strings as their bytes, objects of one shape as a column per property, arrays as
 * their items and lengths. Whatever does not fit is written by v8.
 *
 * `shred` analyses a value into a tree of tagged nodes (sharing the input's arrays where it can), `writeNode`
 * writes the tree, `readValue` reads the value back directly. Exact for values (-0, NaN, lone surrogates,
 * undefined against null, holes); not for identity: an object reachable twice in shredded arrays comes back as
 * two equal objects (state values are values). Only plain objects and arrays are shredded.
 */

/** An analysed value. */
export type Node =
  | readonly [typeof RAW, unknown]
  | readonly [typeof NUMBERS, number[]]
  | readonly [typeof INTS, number[]]
  | readonly [typeof STRINGS, string[]]
  | readonly [typeof BOOLEANS, boolean[]]
  | readonly [typeof TABLE, string[], Node[], number]
  | readonly [typeof TUPLES, number, Node[], number]
  | readonly [typeof LISTS, number[], Node]
  | readonly [typeof NULLABLE, number[], Node]
  | readonly [typeof RECORD, string[], Node[]]

const RAW = 0
const NUMBERS = 1
const TABLE = 2
const TUPLES = 3
const LISTS = 4
const NULLABLE = 5
const RECORD = 6
const STRINGS = 7
const BOOLEANS = 8
/** Integers: each the zigzag varint of its difference from the previous one (the first from 0). */
const INTS = 9
/** As STRINGS and LISTS, with lengths as varints (formats before INTS wrote them as u32). */
const VSTRINGS = 10
const VLISTS = 11

/** Integers of at most this size are written as INTS (so that differences and their zigzag stay exact doubles). */
const MAX_INT = 2 ** 50

/**
 * Arrays shorter than this are left to v8. Two rows of one shape already cost less as columns (property names
 * once); a delta spreads few keys over many key groups, so most of its groups' lists are that short.
 */
const MIN_ROWS = 2
/** Arrays of arrays of one length up to this are tuples (a column per position); longer or uneven ones are lists. */
const MAX_TUPLE = 16
/** Deeper nesting is left to v8 (also what stops a cycle through shredded columns). */
const MAX_DEPTH = 24

const PRESENT = 0
const UNDEFINED = 1
const NULL = 2

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype

/** Shreds `value` (see the module's comment). The result shares strings and unshredded values with the input. */
export function shred(value: unknown, depth = 0): Node {
  if (depth > MAX_DEPTH) return [RAW, value]
  if (Array.isArray(value)) return value.length < MIN_ROWS ? [RAW, value] : column(value, depth)
  if (isPlain(value)) {
    const keys = Object.keys(value)
    return [RECORD, keys, keys.map((k) => shred(value[k], depth + 1))]
  }
  return [RAW, value]
}

/** Encodes an array by what all its elements are. */
function column(values: unknown[], depth: number): Node {
  const n = values.length
  let nulls = 0
  let first: unknown = undefined
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (v === null || v === undefined) nulls++
    else if (first === undefined) first = v
  }
  if (first === undefined) return [RAW, values]
  if (nulls > 0) {
    // Null and undefined positions in a mask, the other values as a column of their own.
    const mask: number[] = []
    const present: unknown[] = []
    for (let i = 0; i < n; i++) {
      const v = values[i]
      if (v === undefined) {
        // A hole is not undefined: v8 keeps it, so such an array stays as it is.
        if (!(i in values)) return [RAW, values]
        mask.push(UNDEFINED)
      } else if (v === null) mask.push(NULL)
      else {
        mask.push(PRESENT)
        present.push(v)
      }
    }
    return present.length < MIN_ROWS ? [RAW, values] : [NULLABLE, mask, column(present, depth)]
  }
  if (typeof first === 'number') return every(values, 'number') ? [integers(values as number[]) ? INTS : NUMBERS, values as number[]] : [RAW, values]
  if (typeof first === 'string') return every(values, 'string') ? [STRINGS, values as string[]] : [RAW, values]
  if (typeof first === 'boolean') return every(values, 'boolean') ? [BOOLEANS, values as boolean[]] : [RAW, values]
  if (Array.isArray(first)) return arrays(values, depth) ?? [RAW, values]
  if (isPlain(first)) return table(values, first, depth) ?? [RAW, values]
  return [RAW, values]
}

function every(values: unknown[], type: 'number' | 'string' | 'boolean'): boolean {
  for (let i = 0; i < values.length; i++) if (typeof values[i] !== type) return false
  return true
}

/** Whether every number is an integer that INTS holds exactly (-0 is not: it would come back as 0). */
function integers(values: number[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isInteger(v) || v > MAX_INT || v < -MAX_INT || (v === 0 && 1 / v < 0)) return false
  }
  return true
}

/** Plain objects that all have the same own properties in the same order: a column per property. */
function table(values: unknown[], first: Record<string, unknown>, depth: number): Node | undefined {
  const keys: string[] = []
  for (const k in first) keys.push(k)
  const width = keys.length
  // Columns grow by push: `new Array(n)` of a large n would be a dictionary, slow to fill and to read.
  const cols: unknown[][] = keys.map(() => [])
  for (let i = 0; i < values.length; i++) {
    const o = values[i]
    if (!isPlain(o)) return undefined
    let j = 0
    for (const k in o) {
      if (j === width || k !== keys[j]) return undefined
      cols[j].push(o[k])
      j++
    }
    if (j !== width) return undefined
  }
  return [TABLE, keys, cols.map((c) => shredColumn(c, depth + 1)), values.length]
}

/** Arrays of arrays: of one short length, a column per position; otherwise their items in one column and their lengths. */
function arrays(values: unknown[], depth: number): Node | undefined {
  const width = (values[0] as unknown[]).length
  let same = width <= MAX_TUPLE
  for (let i = 0; i < values.length; i++) {
    const a = values[i]
    if (!Array.isArray(a) || Object.getPrototypeOf(a) !== Array.prototype) return undefined
    if (a.length !== width) same = false
  }
  if (same) {
    const cols: unknown[][] = []
    for (let j = 0; j < width; j++) cols.push([])
    for (let i = 0; i < values.length; i++) {
      const a = values[i] as unknown[]
      for (let j = 0; j < width; j++) {
        const x = a[j]
        if (x === undefined && !(j in a)) return undefined
        cols[j].push(x)
      }
    }
    return [TUPLES, width, cols.map((c) => shredColumn(c, depth + 1)), values.length]
  }
  const lengths: number[] = []
  const items: unknown[] = []
  for (let i = 0; i < values.length; i++) {
    const a = values[i] as unknown[]
    for (let j = 0; j < a.length; j++) {
      const x = a[j]
      if (x === undefined && !(j in a)) return undefined
      items.push(x)
    }
    lengths.push(a.length)
  }
  return [LISTS, lengths, shredColumn(items, depth + 1)]
}

/** A column is an array of values: shredded as a whole when long enough. */
function shredColumn(values: unknown[], depth: number): Node {
  return depth > MAX_DEPTH || values.length < MIN_ROWS ? [RAW, values] : column(values, depth)
}

/** Writes an analysed value. */
export function writeNode(node: Node, w: ByteWriter): void {
  w.u8(node[0] === STRINGS ? VSTRINGS : node[0] === LISTS ? VLISTS : node[0])
  switch (node[0]) {
    case RAW:
      w.value(node[1])
      return
    case NUMBERS: {
      const v = node[1]
      w.u32(v.length)
      w.ensure(8 * v.length)
      for (let i = 0; i < v.length; i++) w.f64(v[i])
      return
    }
    case INTS: {
      const v = node[1]
      w.u32(v.length)
      let prev = 0
      for (let i = 0; i < v.length; i++) {
        const d = v[i] - prev
        prev = v[i]
        w.varuint(d >= 0 ? 2 * d : -2 * d - 1)
      }
      return
    }
    case STRINGS: {
      // Lengths, then all the strings joined: one copy in V8's join and one write, not a call per string.
      const v = node[1]
      w.u32(v.length)
      for (let i = 0; i < v.length; i++) w.varuint(v[i].length)
      w.str(v.join(''))
      return
    }
    case BOOLEANS: {
      const v = node[1]
      w.u32(v.length)
      w.ensure(v.length)
      for (let i = 0; i < v.length; i++) w.u8(v[i] ? 1 : 0)
      return
    }
    case RECORD:
    case TABLE: {
      const keys = node[1]
      w.u32(keys.length)
      for (const k of keys) w.str(k)
      if (node[0] === TABLE) w.u32(node[3])
      for (const c of node[2]) writeNode(c, w)
      return
    }
    case TUPLES:
      w.u32(node[1])
      w.u32(node[3])
      for (const c of node[2]) writeNode(c, w)
      return
    case LISTS: {
      const v = node[1]
      w.u32(v.length)
      for (let i = 0; i < v.length; i++) w.varuint(v[i])
      writeNode(node[2], w)
      return
    }
    case NULLABLE: {
      const v = node[1]
      w.u32(v.length)
      w.ensure(4 * v.length)
      for (let i = 0; i < v.length; i++) w.u32(v[i])
      writeNode(node[2], w)
      return
    }
  }
}

/** Reads back the value that `writeNode` wrote. */
export function readValue(r: ByteReader): unknown {
  const tag = r.u8()
  switch (tag) {
    case RAW:
      return r.value()
    case NUMBERS: {
      const n = r.u32()
      const out: number[] = []
      for (let i = 0; i < n; i++) out.push(r.f64())
      return out
    }
    case INTS: {
      const n = r.u32()
      const out: number[] = []
      let prev = 0
      for (let i = 0; i < n; i++) {
        const z = r.varuint()
        prev += z % 2 === 0 ? z / 2 : -(z + 1) / 2
        out.push(prev)
      }
      return out
    }
    case STRINGS:
    case VSTRINGS: {
      const lengths = tag === STRINGS ? readU32s(r) : readVarUints(r)
      return r.strs(lengths)
    }
    case BOOLEANS: {
      const n = r.u32()
      const out: boolean[] = []
      for (let i = 0; i < n; i++) out.push(r.u8() === 1)
      return out
    }
    case RECORD: {
      const keys = readKeys(r)
      const o: Record<string, unknown> = {}
      for (const k of keys) define(o, k, readValue(r))
      return o
    }
    case TABLE: {
      const keys = readKeys(r)
      const n = r.u32()
      const cols = keys.map(() => readValue(r) as unknown[])
      return rows(keys, cols, n)
    }
    case TUPLES: {
      const width = r.u32()
      const n = r.u32()
      const cols: unknown[][] = []
      for (let j = 0; j < width; j++) cols.push(readValue(r) as unknown[])
      const out: unknown[][] = []
      for (let i = 0; i < n; i++) {
        const a: unknown[] = []
        for (let j = 0; j < width; j++) a.push(cols[j][i])
        out.push(a)
      }
      return out
    }
    case LISTS:
    case VLISTS: {
      const lengths = tag === LISTS ? readU32s(r) : readVarUints(r)
      const items = readValue(r) as unknown[]
      const out: unknown[][] = []
      let at = 0
      for (const len of lengths) {
        out.push(items.slice(at, at + len))
        at += len
      }
      return out
    }
    case NULLABLE: {
      const mask = readU32s(r)
      const present = readValue(r) as unknown[]
      const out: unknown[] = []
      let at = 0
      for (const m of mask) out.push(m === PRESENT ? present[at++] : m === NULL ? null : undefined)
      return out
    }
    default:
      throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `unknown column tag ${tag} at byte ${r.pos - 1} of a state file`, { domain: 'external' })
  }
}

function readKeys(r: ByteReader): string[] {
  const n = r.u32()
  const keys: string[] = []
  for (let i = 0; i < n; i++) keys.push(r.str())
  return keys
}

function readVarUints(r: ByteReader): number[] {
  const n = r.u32()
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(r.varuint())
  return out
}

function readU32s(r: ByteReader): number[] {
  const n = r.u32()
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(r.u32())
  return out
}

/** Sets an own property, also one named `__proto__` (which plain assignment would take as the prototype). */
function define(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  else o[k] = v
}

/** Builds `n` objects with properties `keys` from columns `values`. */
function rows(keys: string[], values: unknown[][], n: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  const make = maker(keys)
  if (make !== undefined) {
    for (let i = 0; i < n; i++) out.push(make(values, i))
    return out
  }
  for (let i = 0; i < n; i++) {
    const o: Record<string, unknown> = {}
    for (let j = 0; j < keys.length; j++) define(o, keys[j], values[j][i])
    out.push(o)
  }
  return out
}

type Maker = (cols: unknown[][], i: number) => Record<string, unknown>
const makers = new Map<string, Maker | undefined>()

/**
 * A function returning an object literal with `keys` (one shape for all rows, made by V8's fast path for
 * literals); undefined when a key cannot be written in a literal as a plain property (`__proto__`, or a key
 * that is an array index, whose order in a literal would differ).
 */
function maker(keys: string[]): Maker | undefined {
  const id = JSON.stringify(keys)
  if (makers.has(id)) return makers.get(id)
  let make: Maker | undefined
  if (keys.length <= 64 && keys.every((k) => k !== '__proto__' && !/^(0|[1-9][0-9]*)$/.test(k))) {
    const body = keys.map((k, j) => `${JSON.stringify(k)}: c[${j}][i]`).join(', ')
    make = new Function('c', 'i', `return { ${body} }`) as Maker
  }
  makers.set(id, make)
  return make
}
