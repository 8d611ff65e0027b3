import { createHash } from 'node:crypto'

// HMAC-SHA-256 in plain JavaScript for short values: the padded key's inner and outer states are computed once,
// then a value of up to 55 bytes costs two compressions and no allocation but the output string. Native
// `createHmac` pays for two objects and a native call per value, which dominates for e-mail-sized inputs.
// Checked against RFC 4231 and against node:crypto in sha256-hmac.test.ts.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

/** One SHA-256 compression of the 64-byte block at `block[off..]` into `h`; `w` is 64 words of scratch. */
function compress(h: Int32Array, block: Uint8Array, off: number, w: Int32Array): void {
  for (let i = 0; i < 16; i++) {
    const j = off + i * 4
    w[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3]
  }
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]
    const b = w[i - 2]
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3)
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10)
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0
  }
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7]
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    k = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  h[0] = (h[0] + a) | 0
  h[1] = (h[1] + b) | 0
  h[2] = (h[2] + c) | 0
  h[3] = (h[3] + d) | 0
  h[4] = (h[4] + e) | 0
  h[5] = (h[5] + f) | 0
  h[6] = (h[6] + g) | 0
  h[7] = (h[7] + k) | 0
}

const encoder = new TextEncoder()

/** HMAC-SHA-256 under one key, for many values. */
export class HmacSha256 {
  private readonly innerStart = new Int32Array(8)
  private readonly outerStart = new Int32Array(8)
  private readonly h = new Int32Array(8)
  private readonly w = new Int32Array(64)
  private buf = new Uint8Array(128)
  private readonly outerBlock = new Uint8Array(64)

  constructor(key: Uint8Array) {
    // RFC 2104: a key longer than a block is hashed first (once, so node:crypto does it).
    const k = key.length > 64 ? createHash('sha256').update(key).digest() : key
    const pad = new Uint8Array(64)
    for (const [start, byte] of [[this.innerStart, 0x36], [this.outerStart, 0x5c]] as const) {
      pad.fill(byte)
      for (let i = 0; i < k.length; i++) pad[i] = k[i] ^ byte
      start.set(IV)
      compress(start, pad, 0, this.w)
    }
    // The outer message is always 32 bytes after the 64-byte padded key: its padding is fixed.
    this.outerBlock[32] = 0x80
    this.outerBlock[62] = 0x03 // (64 + 32) * 8 = 768 bits = 0x0300
  }

  /** The 32-byte MAC of the UTF-8 text of `value`, written into `out` (default a new Uint8Array). */
  digest(value: string | Uint8Array, out: Uint8Array = new Uint8Array(32)): Uint8Array {
    let len: number
    if (typeof value === 'string') {
      if (value.length * 3 + 72 > this.buf.length) this.buf = new Uint8Array(value.length * 3 + 72)
      len = encoder.encodeInto(value, this.buf).written
    } else {
      if (value.length + 72 > this.buf.length) this.buf = new Uint8Array(value.length + 72)
      this.buf.set(value)
      len = value.length
    }
    const buf = this.buf
    const total = Math.ceil((len + 9) / 64) * 64
    buf[len] = 0x80
    buf.fill(0, len + 1, total)
    const bits = (len + 64) * 8
    buf[total - 1] = bits & 0xff
    buf[total - 2] = (bits >>> 8) & 0xff
    buf[total - 3] = (bits >>> 16) & 0xff
    buf[total - 4] = (bits >>> 24) & 0xff
    buf[total - 5] = Math.floor(bits / 2 ** 32) & 0xff
    const h = this.h
    h.set(this.innerStart)
    for (let off = 0; off < total; off += 64) compress(h, buf, off, this.w)
    const ob = this.outerBlock
    for (let i = 0; i < 8; i++) {
      const x = h[i]
      ob[i * 4] = x >>> 24
      ob[i * 4 + 1] = (x >>> 16) & 0xff
      ob[i * 4 + 2] = (x >>> 8) & 0xff
      ob[i * 4 + 3] = x & 0xff
    }
    h.set(this.outerStart)
    compress(h, ob, 0, this.w)
    for (let i = 0; i < 8; i++) {
      const x = h[i]
      out[i * 4] = x >>> 24
      out[i * 4 + 1] = (x >>> 16) & 0xff
      out[i * 4 + 2] = (x >>> 8) & 0xff
      out[i * 4 + 3] = x & 0xff
    }
    return out
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** base64url without padding of 32 bytes (43 characters). */
export function base64url32(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < 30; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2]
    s += B64[n >>> 18] + B64[(n >>> 12) & 63] + B64[(n >>> 6) & 63] + B64[n & 63]
  }
  const n = (b[30] << 8) | b[31]
  return s + B64[n >>> 10] + B64[(n >>> 4) & 63] + B64[(n << 2) & 63]
}

/** Lower-case hex of 32 bytes. */
export function hex32(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < 32; i++) s += HEX[b[i]]
  return s
}
