import type { StoreKey } from './store-keys.ts'

const PROBES = 7
const BITS_PER_KEY = 10

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

/** Two 32-bit hashes of a store key's state, namespace and identity (the key group follows from the identity). */
function hashPart(v: string | number | boolean, h: number): number {
  if (typeof v === 'number') {
    f64[0] = v
    h = Math.imul(h ^ u32[0], 0x01000193)
    return Math.imul(h ^ u32[1], 0x01000193)
  }
  if (typeof v === 'string') {
    for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v.charCodeAt(i), 0x01000193)
    return Math.imul(h ^ 0xff, 0x01000193)
  }
  return Math.imul(h ^ (v ? 0x5a : 0xa5), 0x01000193)
}

/**
 * Where the probes of the last key located fall: its block's first word, and the first bit and the step
 * (odd, so the probes differ) of its probes inside the block's 512 bits.
 */
let base = 0
let first = 0
let step = 1

/** Locates `key`'s probes in a filter of `words` 32-bit words (whole blocks of 16). */
function locate(key: StoreKey, words: number): void {
  const h = hashPart(key[3], hashPart(key[2], hashPart(key[1], 0x811c9dc5)))
  const h2 = mix(h)
  base = (mix(h ^ 0x9e3779b9) % (words >>> 4)) << 4
  first = h2 & 511
  step = ((h2 >>> 9) & 511) | 1
}

function mix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Bits for `capacity` keys, in blocks of 512 bits (16 words, one cache line): a key's probes all fall in one block. */
function blocks(capacity: number): Uint32Array {
  return new Uint32Array(Math.max(1, Math.ceil((capacity * BITS_PER_KEY) / 512)) * 16)
}

/**
 * The keys the durable store may hold, as a blocked Bloom filter (a key's probes in one cache line): a key
 * the filter has never seen is not in the store, so looking up a new key (a new row, a key's first record)
 * costs no store read. Keys are added when
 * they are written; removed keys stay (a lookup of them reads the store, as before). It grows by rebuilding
 * from the store's keys when it holds more keys than it was sized for, so its false positives stay about 1%.
 *
 * @example
 * const filter = new KeyFilter()
 * filter.add([3, 1, 0, 'k'])
 * filter.mayHold([3, 1, 0, 'k']) // true
 * filter.mayHold([3, 1, 0, 'other']) // false, almost surely
 */
export class KeyFilter {
  private bits: Uint32Array
  private capacity: number
  private added = 0

  constructor(capacity = 1 << 20) {
    this.capacity = capacity
    this.bits = blocks(capacity)
  }

  /** Whether the filter is past the number of keys it was sized for (then `rebuild` it from the store). */
  get full(): boolean {
    return this.added > this.capacity
  }

  add(key: StoreKey): void {
    this.added++
    const bits = this.bits
    locate(key, bits.length)
    for (let i = 0, b = first; i < PROBES; i++, b = (b + step) & 511) bits[base + (b >>> 5)] |= 1 << (b & 31)
  }

  mayHold(key: StoreKey): boolean {
    const bits = this.bits
    locate(key, bits.length)
    for (let i = 0, b = first; i < PROBES; i++, b = (b + step) & 511) if ((bits[base + (b >>> 5)] & (1 << (b & 31))) === 0) return false
    return true
  }

  /** Starts again, sized for `capacity` keys, holding the keys `keys` gives. */
  rebuild(capacity: number, keys: Iterable<StoreKey>): void {
    this.capacity = capacity
    this.bits = blocks(capacity)
    this.added = 0
    for (const k of keys) this.add(k)
  }

  clear(): void {
    this.bits.fill(0)
    this.added = 0
  }
}
