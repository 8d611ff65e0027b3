/**
 * Functions compiled per record shape (its property names, in order) for the exchange codec: reading records
 * into columns and rebuilding them as object literals, so that V8 sees fixed property names instead of a
 * loop over keys. Number and boolean properties are read straight into the batch's Float64Array and rebuilt
 * straight from it, without an array per column on either side.
 */

/** How a property of a shape is read: `n` a number, `b` a boolean (as 0 or 1), `x` anything else (into an array). */
export type ReadKind = 'n' | 'b' | 'x'

/** How a column is rebuilt: `n` numbers, `b` booleans (0 or 1), `c` one value for all, `x` an array of values. */
export type MakeKind = 'n' | 'b' | 'c' | 'x'

/**
 * Reads the properties of `values` into columns: property `j` of kind `n` or `b` into `num` from
 * `base + slot[j] * values.length`, others into `cols[j]`. False if some value is not an object of prototype
 * `proto` with exactly the shape's keys in order, or a property is not of its kind (nothing is kept then).
 */
export type Read = (values: unknown[], cols: unknown[][], proto: object, num: Float64Array, base: number) => boolean

/**
 * Rebuilds `n` records into `out`: property `j` from `num[at[j] + i]` (kinds `n`, `b`), `cv[j]` (`c`) or
 * `cols[j][i]` (`x`).
 */
export type Make = (num: Float64Array, at: number[], cv: unknown[], cols: unknown[][], out: unknown[], n: number) => void

export interface Shape {
  keys: string[]
  /** Fills a column per key; false if some value is not an object of prototype `proto` with exactly these keys in this order. */
  extract(values: unknown[], cols: unknown[][], proto: object): boolean
  /** The reader for these kinds of properties (compiled on first use); undefined once MAX_KINDS are compiled. */
  reader(kinds: string): Read | undefined
  /** The builder for these kinds of columns (compiled on first use); undefined once MAX_KINDS are compiled. */
  maker(kinds: string): Make | undefined
  /** The builder of records whose columns are all arrays (kinds `x`). */
  make: Make
}

/** Shapes remembered per thread; records with ever new property names go as they are once this many are known. */
const MAX_SHAPES = 1024
/** Objects with more properties go as they are. */
const MAX_KEYS = 64
/** Combinations of kinds compiled per shape; beyond, a shape's records are read and rebuilt by the plain path. */
const MAX_KINDS = 16

const shapes = new Map<string, Shape | undefined>()

/** The compiled shape of `o`'s keys, or undefined when they cannot be written as an object literal. */
export function shapeOf(o: Record<string, unknown>): Shape | undefined {
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
export function shapeOfKeys(keys: string[]): Shape {
  const id = JSON.stringify(keys)
  let s = shapes.get(id)
  if (s === undefined) {
    s = compile(keys)!
    if (shapes.size < MAX_SHAPES) shapes.set(id, s)
  }
  return s
}

/** `v` as a small integer if it is one (-0 stays -0): a source's own records hold small integers, not boxed doubles. */
export const smallest = (v: number): number => ((v | 0) === v && (v !== 0 || 1 / v > 0) ? v | 0 : v)

/** One function per combination of kinds, compiled on first use, at most MAX_KINDS. */
function cached<F>(make: (kinds: string) => F): (kinds: string) => F | undefined {
  const fs = new Map<string, F>()
  return (kinds) => {
    let f = fs.get(kinds)
    if (f === undefined && fs.size < MAX_KINDS) fs.set(kinds, (f = make(kinds)))
    return f
  }
}

function compile(keys: string[]): Shape | undefined {
  // A literal cannot hold `__proto__` as an own property, and puts index-like keys first, out of order.
  if (keys.length === 0 || keys.length > MAX_KEYS || keys.some((k) => k === '__proto__' || /^(0|[1-9][0-9]*)$/.test(k))) return undefined
  const lit = keys.map((k) => JSON.stringify(k))
  const extract = compileRead(keys, lit, 'x'.repeat(keys.length)) as unknown as Shape['extract']
  const make = compileMake(lit, 'x'.repeat(keys.length))
  return { keys, extract, reader: cached((kinds) => compileRead(keys, lit, kinds)), maker: cached((kinds) => compileMake(lit, kinds)), make }
}

function compileRead(keys: string[], lit: string[], kinds: string): Read {
  const decl: string[] = []
  const fill: string[] = []
  let slot = 0
  for (let j = 0; j < keys.length; j++) {
    const k = lit[j]
    if (kinds[j] === 'x') {
      decl.push(`const c${j} = cols[${j}];`)
      fill.push(`c${j}[i] = r[${k}];`)
    } else {
      decl.push(`const a${j} = base + ${slot++} * n;`)
      fill.push(`const v${j} = r[${k}];`)
      if (kinds[j] === 'n') fill.push(`if (typeof v${j} !== 'number') return false; num[a${j} + i] = v${j};`)
      else fill.push(`if (typeof v${j} !== 'boolean') return false; num[a${j} + i] = v${j} ? 1 : 0;`)
    }
  }
  // for-in rather than Object.keys: no array per record (a polluted Object.prototype only makes records go as they are).
  return new Function(
    'KS',
    `return function read(values, cols, proto, num, base) {
      const n = values.length
      ${decl.join('\n')}
      for (let i = 0; i < n; i++) {
        const r = values[i]
        if (typeof r !== 'object' || r === null || Object.getPrototypeOf(r) !== proto) return false
        let j = 0
        for (const k in r) {
          if (j === ${keys.length} || k !== KS[j]) return false
          j++
        }
        if (j !== ${keys.length}) return false
        ${fill.join('\n')}
      }
      return true
    }`,
  )(keys) as Read
}

function compileMake(lit: string[], kinds: string): Make {
  const decl: string[] = []
  const props: string[] = []
  for (let j = 0; j < lit.length; j++) {
    switch (kinds[j]) {
      case 'n':
        decl.push(`const a${j} = at[${j}];`)
        props.push(`${lit[j]}: sm(num[a${j} + i])`)
        break
      case 'b':
        decl.push(`const a${j} = at[${j}];`)
        props.push(`${lit[j]}: num[a${j} + i] !== 0`)
        break
      case 'c':
        decl.push(`const v${j} = cv[${j}];`)
        props.push(`${lit[j]}: v${j}`)
        break
      default:
        decl.push(`const c${j} = cols[${j}];`)
        props.push(`${lit[j]}: c${j}[i]`)
    }
  }
  return new Function(
    'sm',
    `return function make(num, at, cv, cols, out, n) {
      ${decl.join('\n')}
      for (let i = 0; i < n; i++) out[i] = { ${props.join(', ')} }
    }`,
  )(smallest) as Make
}
