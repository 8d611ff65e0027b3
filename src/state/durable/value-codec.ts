import { deserialize, serialize } from 'node:v8'

/*
 * The durable store's encoding of values kept with the `v8` codec. It gives back what a structured clone
 * gives (what `v8.serialize` keeps), at a fraction of its cost for the values state holds most: plain
 * objects and arrays of numbers, strings, booleans, null, undefined, Dates, bigints, Maps and Sets, an object
 * reached twice (shared, or a cycle) written once and referred to after. Anything else (class instances,
 * typed arrays, sparse arrays or arrays with extra properties) makes the whole value fall back to
 * `v8.serialize`, behind its own tag, so nothing is lost and what cannot be cloned fails as the `v8` codec
 * fails.
 *
 * Bytes: a tag per value; integers as zigzag varints; other numbers as little-endian doubles; strings as
 * latin-1 bytes when every code unit fits one, else UTF-16 code units (lone surrogates survive);
 * containers as a varint count and their members; a plain object of a few properties as the number of its
 * names' list in a table of this process (its shape, written once per process, not per value) and its values.
 * The store is a working copy that starts empty, so this
 * format is never read by another version; snapshots keep the `v8` codec's own format. (Checkpoints' columnar
 * form, `checkpoint/columnar.ts`, is made for long arrays of rows shredded into columns and does not keep
 * identity; the store encodes one small value at a time, as often as a cell is evicted.)
 */

const UNDEFINED = 0
const NULL = 1
const TRUE = 2
const FALSE = 3
const INT = 4
const DOUBLE = 5
const LATIN1 = 6
const UTF16 = 7
const ARRAY = 8
const OBJECT = 9
const MAP = 10
const SET = 11
const DATE = 12
const BIGINT = 13
/** The whole value in `v8.serialize`'s format (first byte only). */
const V8 = 14
/** An object met before in this value: its number in the order objects are met. */
const REF = 15
/** A plain object whose property names are a shape of this process's table: its number, then its values in order. */
const SHAPED = 16

const MAX_INT = 2 ** 51

/** Strings shorter than this are read a code unit at a time (cheaper than a native call). */
const SHORT_STRING = 24

class Unsupported {}
const UNSUPPORTED = new Unsupported()

// Its own memory (not a slice of Node's pool): the store takes its address as the start of the value.
let buf = Buffer.allocUnsafeSlow(4096)
let pos = 0
/** Containers open while encoding: past MAX_DEPTH the value falls back to v8. */
let depth = 0
const MAX_DEPTH = 100
/** Containers met while encoding the current value, in order: one met again is written as a reference. */
const seen: object[] = []
let seenAt: Map<object, number> | undefined

function room(n: number): void {
  if (pos + n <= buf.length) return
  const next = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, pos + n))
  buf.copy(next, 0, 0, pos)
  buf = next
}

function varint(n: number): void {
  room(10)
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  buf[pos++] = n
}

/**
 * Records container `o` in the order met; if it was met before (a shared object, or a cycle), writes a
 * reference to it instead and says so.
 */
function enter(o: object): boolean {
  let at = -1
  if (seenAt !== undefined) at = seenAt.get(o) ?? -1
  else for (let i = 0; i < seen.length; i++) if (seen[i] === o) at = i
  if (at >= 0) {
    room(1)
    buf[pos++] = REF
    varint(at)
    return true
  }
  if (seenAt !== undefined) seenAt.set(o, seenAt.size)
  else {
    seen.push(o)
    if (seen.length > 32) seenAt = new Map(seen.map((x, i) => [x, i]))
  }
  return false
}

/** Strings of at least this many code units are copied by a native call first (cheaper than a loop when long). */
const NATIVE_STRING = 16

function writeString(s: string): void {
  const n = s.length
  room(n * 3 + 11)
  const tagAt = pos
  buf[pos++] = LATIN1
  // The length goes first; latin-1 or not is found while copying, and a string that is not is written again.
  varint(n)
  const start = pos
  if (n >= NATIVE_STRING) {
    // ASCII (most strings) is its own latin-1: the native UTF-8 copy takes it one byte per code unit.
    const w = buf.write(s, start, 'utf8')
    if (w === n) {
      pos = start + n
      return
    }
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff) {
      buf[tagAt] = UTF16
      pos = start + buf.write(s, start, 'utf16le')
      return
    }
    buf[pos++] = c
  }
}

function writeNumber(v: number): void {
  room(10)
  // Integers up to 2^51 each way: their zigzag form stays an exact double.
  if (Number.isInteger(v) && v <= MAX_INT && v >= -MAX_INT && (v !== 0 || 1 / v > 0)) {
    buf[pos++] = INT
    varint(v < 0 ? -2 * v - 1 : 2 * v)
  } else {
    buf[pos++] = DOUBLE
    buf.writeDoubleLE(v, pos)
    pos += 8
  }
}

function write(v: unknown): void {
  switch (typeof v) {
    case 'number':
      return writeNumber(v)
    case 'string':
      return writeString(v)
    case 'boolean':
      room(1)
      buf[pos++] = v ? TRUE : FALSE
      return
    case 'undefined':
      room(1)
      buf[pos++] = UNDEFINED
      return
    case 'bigint':
      room(1)
      buf[pos++] = BIGINT
      return writeString(v.toString())
    case 'object':
      if (v === null) {
        room(1)
        buf[pos++] = NULL
        return
      }
      return writeObject(v)
    default:
      throw UNSUPPORTED
  }
}

/**
 * Shapes: lists of property names, numbered in the order met in this process (the store is a working copy of
 * this process, so a number is never read elsewhere). Found by a direct-mapped cache compared name by name
 * (property names are mostly the same string objects), else by the names joined.
 */
const MAX_SHAPES = 1 << 16
const SHAPE_KEYS = 32
const shapes: string[][] = []
const shapeIds = new Map<string, number>()
const recent: (number | undefined)[] = new Array<number | undefined>(256).fill(undefined)

/** The number of the shape of `keys`, or -1 when it is not kept as one (too many names, a full table, `__proto__`). */
function shapeOf(keys: string[]): number {
  const n = keys.length
  if (n === 0 || n > SHAPE_KEYS) return -1
  const first = keys[0]
  const last = keys[n - 1]
  const slot = (n * 31 + first.length * 7 + first.charCodeAt(0) + last.charCodeAt(last.length - 1) * 13) & 255
  const cached = recent[slot]
  if (cached !== undefined) {
    const known = shapes[cached]
    if (known.length === n) {
      let same = true
      for (let i = 0; i < n; i++) {
        if (known[i] !== keys[i]) {
          same = false
          break
        }
      }
      if (same) return cached
    }
  }
  const joined = keys.join('\u0000')
  let id = shapeIds.get(joined)
  if (id === undefined) {
    if (shapes.length >= MAX_SHAPES || keys.includes('__proto__')) return -1
    id = shapes.length
    shapes.push(keys)
    shapeIds.set(joined, id)
  }
  recent[slot] = id
  return id
}

function writeObject(v: object): void {
  const proto = Object.getPrototypeOf(v)
  if (enter(v)) return
  // Deeper values go to v8 whole: reading them back here would recurse as deep.
  if (++depth > MAX_DEPTH) throw UNSUPPORTED
  room(1)
  if (proto === Object.prototype) {
    const keys = Object.keys(v)
    const shape = shapeOf(keys)
    if (shape >= 0) {
      buf[pos++] = SHAPED
      varint(shape)
      for (let i = 0; i < keys.length; i++) write((v as Record<string, unknown>)[keys[i]])
    } else {
      buf[pos++] = OBJECT
      varint(keys.length)
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]
        writeString(k)
        write((v as Record<string, unknown>)[k])
      }
    }
  } else if (proto === Array.prototype) {
    const a = v as unknown[]
    const n = a.length
    buf[pos++] = ARRAY
    varint(n)
    for (let i = 0; i < n; i++) {
      const x = a[i]
      if (x === undefined && !(i in a)) throw UNSUPPORTED
      write(x)
    }
    if (Object.keys(a).length !== n) throw UNSUPPORTED
  } else if (proto === Map.prototype) {
    const m = v as Map<unknown, unknown>
    buf[pos++] = MAP
    varint(m.size)
    for (const [k, x] of m) {
      write(k)
      write(x)
    }
  } else if (proto === Set.prototype) {
    const s = v as Set<unknown>
    buf[pos++] = SET
    varint(s.size)
    for (const x of s) write(x)
  } else if (proto === Date.prototype) {
    room(9)
    buf[pos++] = DATE
    buf.writeDoubleLE((v as Date).getTime(), pos)
    pos += 8
  } else throw UNSUPPORTED
  depth--
}

/** Encodes `v` into the shared buffer from its start; returns its length. */
function encodeInto(v: unknown): number {
  pos = 0
  depth = 0
  seen.length = 0
  seenAt = undefined
  try {
    write(v)
  } catch (e) {
    if (e !== UNSUPPORTED) throw e
    const s = serialize(v)
    pos = 0
    room(s.length + 1)
    buf[0] = V8
    s.copy(buf, 1)
    pos = s.length + 1
  } finally {
    seen.length = 0
    seenAt = undefined
  }
  return pos
}

/**
 * Encodes `v` as a new Buffer (see the module's notes for what is kept).
 * @example
 * const bytes = encodeValue({ auction: 7, price: 12.5, at: new Date(0) })
 * decodeValue(bytes) // { auction: 7, price: 12.5, at: 1970-01-01T00:00:00.000Z }
 */
export function encodeValue(v: unknown): Buffer {
  const n = encodeInto(v)
  const out = Buffer.allocUnsafe(n)
  buf.copy(out, 0, 0, n)
  return out
}

/** A buffer whose value is the bytes from `start` to `end` (how the store takes part of a buffer). */
export type SharedBytes = Buffer & { start: number; end: number }

/**
 * Encodes `v` into a buffer every call shares, for a store that copies the bytes before this returns again
 * (LMDB within a write transaction): no allocation per value. Valid until the next encoding.
 * @example
 * db.put(key, encodeShared(row)) // the store copies bytes start..end at once
 */
export function encodeShared(v: unknown): SharedBytes {
  const n = encodeInto(v)
  const b = buf as SharedBytes
  b.start = 0
  b.end = n
  return b
}

let src: Uint8Array = buf
let at = 0
/** Containers made while decoding the current value, in the order met (what a reference counts). */
const made: object[] = []

function readVarint(): number {
  let n = 0
  let scale = 1
  for (;;) {
    const b = src[at++]
    n += (b & 0x7f) * scale
    if (b < 0x80) return n
    scale *= 128
  }
}

function readDouble(): number {
  const v = Buffer.prototype.readDoubleLE.call(src, at)
  at += 8
  return v
}

/** Recently read property names by a hash of their bytes: a name read again is the same (internalized) string. */
const names: string[] = new Array<string>(1024).fill('')
const NAME_MAX = 32

/** A property name: from the cache when its latin-1 bytes match the cached name. */
function readName(): string {
  const tag = src[at++]
  if (tag !== LATIN1 || src[at] >= NAME_MAX) return readStringBody(tag)
  const n = src[at++]
  let h = n
  for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + src[at + i]) | 0
  const slot = h & 1023
  const cached = names[slot]
  if (cached.length === n) {
    let same = true
    for (let i = 0; i < n; i++) {
      if (cached.charCodeAt(i) !== src[at + i]) {
        same = false
        break
      }
    }
    if (same) {
      at += n
      return cached
    }
  }
  const s = shortLatin1(n)
  names[slot] = s
  return s
}

/** The next `n` bytes as a latin-1 string, a code unit at a time (cheaper than a native call when short). */
function shortLatin1(n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) s += String.fromCharCode(src[at + i])
  at += n
  return s
}

function readStringBody(tag: number): string {
  const n = readVarint()
  if (tag === UTF16) {
    const s = Buffer.prototype.toString.call(src, 'utf16le', at, at + 2 * n)
    at += 2 * n
    return s
  }
  if (n < SHORT_STRING) return shortLatin1(n)
  const s = Buffer.prototype.toString.call(src, 'latin1', at, at + n)
  at += n
  return s
}

function read(): unknown {
  const tag = src[at++]
  switch (tag) {
    case INT: {
      const z = readVarint()
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2
    }
    case DOUBLE:
      return readDouble()
    case LATIN1:
    case UTF16:
      return readStringBody(tag)
    case OBJECT: {
      const n = readVarint()
      const o: Record<string, unknown> = {}
      made.push(o)
      for (let i = 0; i < n; i++) {
        const k = readName()
        if (k === '__proto__') Object.defineProperty(o, k, { value: read(), enumerable: true, writable: true, configurable: true })
        else o[k] = read()
      }
      return o
    }
    case SHAPED: {
      const keys = shapes[readVarint()]
      const o: Record<string, unknown> = {}
      made.push(o)
      for (let i = 0; i < keys.length; i++) o[keys[i]] = read()
      return o
    }
    case ARRAY: {
      const n = readVarint()
      const a: unknown[] = []
      made.push(a)
      for (let i = 0; i < n; i++) a.push(read())
      return a
    }
    case UNDEFINED:
      return undefined
    case NULL:
      return null
    case TRUE:
      return true
    case FALSE:
      return false
    case MAP: {
      const n = readVarint()
      const m = new Map<unknown, unknown>()
      made.push(m)
      for (let i = 0; i < n; i++) {
        const k = read()
        m.set(k, read())
      }
      return m
    }
    case SET: {
      const n = readVarint()
      const s = new Set<unknown>()
      made.push(s)
      for (let i = 0; i < n; i++) s.add(read())
      return s
    }
    case DATE: {
      const d = new Date(readDouble())
      made.push(d)
      return d
    }
    case REF:
      return made[readVarint()]
    case BIGINT:
      return BigInt(readStringBody(src[at++]))
    default:
      throw new Error(`state store: unknown value tag ${tag} at byte ${at - 1}`)
  }
}

/**
 * Decodes what `encodeValue` wrote. The bytes are read at once: a buffer the store reuses may be passed.
 * @example
 * decodeValue(encodeValue([1, 'a', null])) // [1, 'a', null]
 */
export function decodeValue(bytes: Uint8Array): unknown {
  if (bytes[0] === V8) return deserialize(bytes.subarray(1))
  src = bytes
  at = 0
  try {
    return read()
  } finally {
    src = buf
    made.length = 0
  }
}
