/*
 * Approximate heap bytes of a value as V8 lays it out on a 64-bit build: enough to tell a budget that state
 * is growing, cheap enough to run on a sample of writes. Large arrays, maps and objects are measured on
 * their first elements and scaled by their length, and the walk stops a few levels down: an estimate, not
 * a deep walk of every record.
 */

/** Header of a heap object (map, properties, elements) and of a boxed number. */
const OBJECT = 24
const NUMBER = 16
const STRING = 24
/** A JSArray and its backing store's header. */
const ARRAY = 48
/** A Map or Set with its hash table's header, and the bytes of one entry (key, value, chain, slack). */
const MAP = 96
const MAP_ENTRY = 40
const SLOT = 8
/** Elements measured in a large container before scaling by its length. */
const SAMPLE = 16
const DEPTH = 5

/** The approximate bytes `v` holds (its own and what it reaches, a few levels down). */
export function estimateBytes(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'number':
      // Small integers live in the pointer itself; others are boxed.
      return (v | 0) === v ? 0 : NUMBER
    case 'string':
      return STRING + ((v.length + 7) & ~7)
    case 'bigint':
      return NUMBER + 8 * Math.ceil(v.toString(16).length / 16)
    case 'object':
      if (v === null) return 0
      return depth >= DEPTH ? OBJECT : container(v, depth + 1)
    default:
      return 0
  }
}

function container(v: object, depth: number): number {
  if (Array.isArray(v)) return ARRAY + SLOT * v.length + scaled(v.length, (i) => estimateBytes(v[i], depth))
  if (v instanceof Map) {
    const n = MAP + MAP_ENTRY * v.size
    let seen = 0
    let sum = 0
    for (const [k, x] of v) {
      if (seen++ === SAMPLE) break
      sum += estimateBytes(k, depth) + estimateBytes(x, depth)
    }
    return n + (seen === 0 ? 0 : (sum / Math.min(seen, SAMPLE)) * v.size)
  }
  if (v instanceof Set) {
    const n = MAP + MAP_ENTRY * v.size
    let seen = 0
    let sum = 0
    for (const k of v) {
      if (seen++ === SAMPLE) break
      sum += estimateBytes(k, depth)
    }
    return n + (seen === 0 ? 0 : (sum / Math.min(seen, SAMPLE)) * v.size)
  }
  if (ArrayBuffer.isView(v)) return OBJECT * 3 + v.byteLength
  if (v instanceof Date) return OBJECT + NUMBER
  let props = 0
  let sum = 0
  for (const k in v) {
    if (props++ < SAMPLE * 2) sum += estimateBytes((v as Record<string, unknown>)[k], depth)
  }
  return OBJECT + SLOT * props + (props <= SAMPLE * 2 ? sum : (sum / (SAMPLE * 2)) * props)
}

/** The sum of `at(i)` over a container of `n` elements: all of them when few, else its first ones scaled. */
function scaled(n: number, at: (i: number) => number): number {
  const m = Math.min(n, SAMPLE)
  let sum = 0
  for (let i = 0; i < m; i++) sum += at(i)
  return m === n ? sum : (sum / m) * n
}
