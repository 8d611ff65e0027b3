import { createHash } from 'node:crypto'
import { compress } from './sha256-compress.ts'

// HMAC-SHA-256 in plain JavaScript for short values: the padded key's inner and outer states are computed once,
// then a value of up to 55 bytes costs two compressions (sha256-compress.ts) and no allocation but the output
// string. ASCII text goes straight from `charCodeAt` into the big-endian words the compression reads, and the
// text output is read from the final state's words: no UTF-8 encoder call, no byte buffer in between. Native
// `createHmac` or two `crypto.hash` calls pay more per value for the native calls alone than the two
// compressions cost here. Checked against RFC 4231 and against node:crypto in sha256-hmac.test.ts.

const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

const encoder = new TextEncoder()

/** Words of a padded message (its bytes, 0x80, zeros, then the bit length of ipad block + message). */
function paddedWords(bytes: number): number {
  return ((bytes + 72) >> 6) << 4
}

/**
 * HMAC-SHA-256 under one key, for many values.
 * @example new HmacSha256(key).base64url('ada@example.com') // 43 characters
 */
export class HmacSha256 {
  private readonly innerStart = new Int32Array(8)
  private readonly outerStart = new Int32Array(8)
  private readonly h = new Int32Array(8)
  // The inner message as big-endian words, padded; two blocks hold values of up to 119 bytes.
  private words = new Int32Array(32)
  // UTF-8 of text that is not ASCII, on its way to `words`.
  private utf8 = new Uint8Array(128)
  // The outer message is always 32 bytes after the 64-byte padded key: its padding is fixed.
  private readonly outer = new Int32Array(16)

  constructor(key: Uint8Array) {
    // RFC 2104: a key longer than a block is hashed first (once, so node:crypto does it).
    const k = key.length > 64 ? createHash('sha256').update(key).digest() : key
    const pad = new Uint8Array(64)
    const view = new DataView(pad.buffer)
    const block = new Int32Array(16)
    for (const [start, byte] of [[this.innerStart, 0x36], [this.outerStart, 0x5c]] as const) {
      pad.fill(byte)
      for (let i = 0; i < k.length; i++) pad[i] = k[i] ^ byte
      for (let i = 0; i < 16; i++) block[i] = view.getInt32(i * 4)
      start.set(IV)
      compress(start, block, 0)
    }
    this.outer[8] = 0x80000000 | 0
    this.outer[15] = (64 + 32) * 8
  }

  /** The 32-byte MAC of the UTF-8 text of `value`, written into `out` (default a new Uint8Array). */
  digest(value: string | Uint8Array, out: Uint8Array = new Uint8Array(32)): Uint8Array {
    const h = this.mac(value)
    for (let i = 0; i < 8; i++) {
      const x = h[i]
      out[i * 4] = x >>> 24
      out[i * 4 + 1] = (x >>> 16) & 0xff
      out[i * 4 + 2] = (x >>> 8) & 0xff
      out[i * 4 + 3] = x & 0xff
    }
    return out
  }

  /** The MAC as base64url without padding (43 characters). */
  base64url(value: string | Uint8Array): string {
    const h = this.mac(value)
    const a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7], T = B64
    // One call with every character as an argument builds the flat string directly: cheaper than writing a
    // scratch buffer and decoding it (a native call), and than concatenating (a rope to flatten later).
    return String.fromCharCode(
      T[a >>> 26], T[(a >>> 20) & 63], T[(a >>> 14) & 63], T[(a >>> 8) & 63], T[(a >>> 2) & 63], T[((a & 3) << 4) | (b >>> 28)],
      T[(b >>> 22) & 63], T[(b >>> 16) & 63], T[(b >>> 10) & 63], T[(b >>> 4) & 63], T[((b & 15) << 2) | (c >>> 30)],
      T[(c >>> 24) & 63], T[(c >>> 18) & 63], T[(c >>> 12) & 63], T[(c >>> 6) & 63], T[c & 63],
      T[d >>> 26], T[(d >>> 20) & 63], T[(d >>> 14) & 63], T[(d >>> 8) & 63], T[(d >>> 2) & 63], T[((d & 3) << 4) | (e >>> 28)],
      T[(e >>> 22) & 63], T[(e >>> 16) & 63], T[(e >>> 10) & 63], T[(e >>> 4) & 63], T[((e & 15) << 2) | (f >>> 30)],
      T[(f >>> 24) & 63], T[(f >>> 18) & 63], T[(f >>> 12) & 63], T[(f >>> 6) & 63], T[f & 63],
      T[g >>> 26], T[(g >>> 20) & 63], T[(g >>> 14) & 63], T[(g >>> 8) & 63], T[(g >>> 2) & 63], T[((g & 3) << 4) | (k >>> 28)],
      T[(k >>> 22) & 63], T[(k >>> 16) & 63], T[(k >>> 10) & 63], T[(k >>> 4) & 63], T[(k & 15) << 2],
    )
  }

  /** The MAC as lower-case hex (64 characters). */
  hex(value: string | Uint8Array): string {
    const h = this.mac(value)
    for (let i = 0, j = 0; i < 8; i++, j += 8) {
      const x = h[i]
      for (let s = 28, k = j; s >= 0; s -= 4, k++) text[k] = HEX[(x >>> s) & 15]
    }
    return text.toString('latin1', 0, 64)
  }

  /** Runs both compressions; the MAC is the returned state's eight words (valid until the next call). */
  private mac(value: string | Uint8Array): Int32Array {
    const len = typeof value === 'string' ? this.loadText(value) : this.loadBytes(value, value.length)
    const w = this.words
    const total = paddedWords(len)
    for (let i = (len >> 2) + 1; i < total - 2; i++) w[i] = 0
    const bits = (len + 64) * 8
    w[total - 2] = Math.floor(bits / 0x100000000) | 0
    w[total - 1] = bits | 0
    const h = this.h
    const inner = this.innerStart
    for (let i = 0; i < 8; i++) h[i] = inner[i]
    for (let off = 0; off < total; off += 16) compress(h, w, off)
    const o = this.outer
    const outer = this.outerStart
    for (let i = 0; i < 8; i++) {
      o[i] = h[i]
      h[i] = outer[i]
    }
    compress(h, o, 0)
    return h
  }

  /** Writes the words of `s` as UTF-8 and the 0x80 that ends it; returns its byte length. */
  private loadText(s: string): number {
    const len = s.length
    if (paddedWords(len) > this.words.length) this.words = new Int32Array(paddedWords(len))
    const w = this.words
    let i = 0
    for (; i + 4 <= len; i += 4) {
      const c0 = s.charCodeAt(i), c1 = s.charCodeAt(i + 1), c2 = s.charCodeAt(i + 2), c3 = s.charCodeAt(i + 3)
      if ((c0 | c1 | c2 | c3) > 0x7f) return this.loadUtf8(s)
      w[i >> 2] = (c0 << 24) | (c1 << 16) | (c2 << 8) | c3
    }
    let word = 0
    for (; i < len; i++) {
      const c = s.charCodeAt(i)
      if (c > 0x7f) return this.loadUtf8(s)
      word = (word << 8) | c
    }
    w[len >> 2] = ((word << 8) | 0x80) << ((3 - (len & 3)) * 8)
    return len
  }

  private loadUtf8(s: string): number {
    if (s.length * 3 > this.utf8.length) this.utf8 = new Uint8Array(s.length * 3)
    return this.loadBytes(this.utf8, encoder.encodeInto(s, this.utf8).written)
  }

  private loadBytes(b: Uint8Array, len: number): number {
    if (paddedWords(len) > this.words.length) this.words = new Int32Array(paddedWords(len))
    const w = this.words
    let i = 0
    for (; i + 4 <= len; i += 4) w[i >> 2] = (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]
    let word = 0
    for (; i < len; i++) word = (word << 8) | b[i]
    w[len >> 2] = ((word << 8) | 0x80) << ((3 - (len & 3)) * 8)
    return len
  }
}

// base64url characters by 6-bit value, hex digits by 4-bit value.
const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 'latin1')
const HEX = Buffer.from('0123456789abcdef', 'latin1')
// Scratch for the hex text, decoded as latin1 (hex is not on the default path).
const text = Buffer.alloc(64)
