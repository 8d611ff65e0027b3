/**
 * A columnar form of snapshot data, for v8 serialization. Keyed state is mostly long arrays of values of one
 * shape (rows, accumulators, join inputs), and v8's serializer writes every object with all its property
 * names, one object at a time, and creates them back one at a time: for millions of small rows that is most
 * of a checkpoint's cost. Shredding such an array into columns (as Parquet and Arrow do) leaves v8 a few
 * large arrays: numbers go into one Float64Array, objects of one shape into a column per property, arrays
 * into their items and lengths. Everything else is left as it is, for v8.
 *
 * The result is a tree of tagged nodes, so decoding never has to guess what a value was. Shredding is exact
 * for values, not for identity: an object reachable twice in shredded arrays comes back as two equal objects
 * (state values are values), and class instances other than plain objects and arrays are never shredded.
 */

/** An encoded value. */
export type Node =
  | readonly [typeof RAW, unknown]
  | readonly [typeof NUMBERS, Float64Array]
  | readonly [typeof TABLE, string[], Node[], number]
  | readonly [typeof TUPLES, number, Node[], number]
  | readonly [typeof LISTS, Uint32Array, Node]
  | readonly [typeof NULLABLE, Uint8Array, Node]
  | readonly [typeof RECORD, string[], Node[]]

const RAW = 0
const NUMBERS = 1
const TABLE = 2
const TUPLES = 3
const LISTS = 4
const NULLABLE = 5
const RECORD = 6

/** Arrays shorter than this are left to v8 (columns would cost more than they save). */
const MIN_ROWS = 8
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
    const mask = new Uint8Array(n)
    const present: unknown[] = []
    for (let i = 0; i < n; i++) {
      const v = values[i]
      if (v === undefined) {
        // A hole is not undefined: v8 keeps it, so such an array stays as it is.
        if (!(i in values)) return [RAW, values]
        mask[i] = UNDEFINED
      } else if (v === null) mask[i] = NULL
      else present.push(v)
    }
    return present.length < MIN_ROWS ? [RAW, values] : [NULLABLE, mask, column(present, depth)]
  }
  if (typeof first === 'number') return numbers(values) ?? [RAW, values]
  if (Array.isArray(first)) return arrays(values, depth) ?? [RAW, values]
  if (isPlain(first)) return table(values, first, depth) ?? [RAW, values]
  return [RAW, values]
}

function numbers(values: unknown[]): Node | undefined {
  const out = new Float64Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== 'number') return undefined
    out[i] = v
  }
  return [NUMBERS, out]
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
  const lengths = new Uint32Array(values.length)
  const items: unknown[] = []
  for (let i = 0; i < values.length; i++) {
    const a = values[i] as unknown[]
    for (let j = 0; j < a.length; j++) {
      const x = a[j]
      if (x === undefined && !(j in a)) return undefined
      items.push(x)
    }
    lengths[i] = a.length
  }
  return [LISTS, lengths, shredColumn(items, depth + 1)]
}

/** A column is an array of values: shredded as a whole when long enough. */
function shredColumn(values: unknown[], depth: number): Node {
  return depth > MAX_DEPTH || values.length < MIN_ROWS ? [RAW, values] : column(values, depth)
}

/** The value that `shred` encoded as `node`. */
export function unshred(node: Node): unknown {
  switch (node[0]) {
    case RAW:
      return node[1]
    case NUMBERS:
      return Array.from(node[1])
    case RECORD: {
      const [, keys, fields] = node
      const o: Record<string, unknown> = {}
      for (let j = 0; j < keys.length; j++) define(o, keys[j], unshred(fields[j]))
      return o
    }
    case TABLE: {
      const [, keys, cols, n] = node
      const values = cols.map((c) => unshred(c) as unknown[])
      return rows(keys, values, n)
    }
    case TUPLES: {
      const [, width, cols, n] = node
      const values = cols.map((c) => unshred(c) as unknown[])
      const out: unknown[][] = []
      for (let i = 0; i < n; i++) {
        const a: unknown[] = []
        for (let j = 0; j < width; j++) a.push(values[j][i])
        out.push(a)
      }
      return out
    }
    case LISTS: {
      const [, lengths, itemsNode] = node
      const items = unshred(itemsNode) as unknown[]
      const out: unknown[][] = []
      let at = 0
      for (let i = 0; i < lengths.length; i++) {
        out.push(items.slice(at, at + lengths[i]))
        at += lengths[i]
      }
      return out
    }
    case NULLABLE: {
      const [, mask, presentNode] = node
      const present = unshred(presentNode) as unknown[]
      const out: unknown[] = []
      let at = 0
      for (let i = 0; i < mask.length; i++) out.push(mask[i] === PRESENT ? present[at++] : mask[i] === NULL ? null : undefined)
      return out
    }
  }
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
