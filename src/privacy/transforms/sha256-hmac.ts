import { createHash } from 'node:crypto'
import { compress } from './sha256-compress.ts'

// HMAC-SHA-256 in plain JavaScript for short values: the padded key's inner and outer states are computed once,
// then a value of up to 55 bytes costs two compressions (sha256-compress.ts) and no allocation but the output
// string. Native `createHmac` pays for two objects and a native call per value, which dominates for e-mail-sized inputs.
// Checked against RFC 4231 and against node:crypto in sha256-hmac.test.ts.

const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

const encoder = new TextEncoder()

/** HMAC-SHA-256 under one key, for many values. */
export class HmacSha256 {
  private readonly innerStart = new Int32Array(8)
  private readonly outerStart = new Int32Array(8)
  private readonly h = new Int32Array(8)
  private buf = new Uint8Array(128)
  private view = new DataView(this.buf.buffer)
  private readonly outerBlock = new Uint8Array(64)
  private readonly outerView = new DataView(this.outerBlock.buffer)

  constructor(key: Uint8Array) {
    // RFC 2104: a key longer than a block is hashed first (once, so node:crypto does it).
    const k = key.length > 64 ? createHash('sha256').update(key).digest() : key
    const pad = new Uint8Array(64)
    for (const [start, byte] of [[this.innerStart, 0x36], [this.outerStart, 0x5c]] as const) {
      pad.fill(byte)
      for (let i = 0; i < k.length; i++) pad[i] = k[i] ^ byte
      start.set(IV)
      compress(start, new DataView(pad.buffer), 0)
    }
    // The outer message is always 32 bytes after the 64-byte padded key: its padding is fixed.
    this.outerBlock[32] = 0x80
    this.outerBlock[62] = 0x03 // (64 + 32) * 8 = 768 bits = 0x0300
  }

  private grow(size: number): void {
    this.buf = new Uint8Array(size)
    this.view = new DataView(this.buf.buffer)
  }

  /** The 32-byte MAC of the UTF-8 text of `value`, written into `out` (default a new Uint8Array). */
  digest(value: string | Uint8Array, out: Uint8Array = new Uint8Array(32)): Uint8Array {
    let len: number
    if (typeof value === 'string') {
      if (value.length * 3 + 72 > this.buf.length) this.grow(value.length * 3 + 72)
      len = encoder.encodeInto(value, this.buf).written
    } else {
      if (value.length + 72 > this.buf.length) this.grow(value.length + 72)
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
    for (let off = 0; off < total; off += 64) compress(h, this.view, off)
    const ov = this.outerView
    for (let i = 0; i < 8; i++) ov.setInt32(i * 4, h[i])
    h.set(this.outerStart)
    compress(h, this.outerView, 0)
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

// Both encoders write ASCII through a lookup table into one scratch buffer and read it back as a single flat
// string: concatenating 43 one-character strings costs as much as a compression once the rope is flattened.
const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 'latin1')
const HEX = Buffer.from('0123456789abcdef', 'latin1')
const text = Buffer.alloc(64)

/** base64url without padding of 32 bytes (43 characters). */
export function base64url32(b: Uint8Array): string {
  for (let i = 0, j = 0; i < 30; i += 3, j += 4) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2]
    text[j] = B64[n >>> 18]
    text[j + 1] = B64[(n >>> 12) & 63]
    text[j + 2] = B64[(n >>> 6) & 63]
    text[j + 3] = B64[n & 63]
  }
  const n = (b[30] << 8) | b[31]
  text[40] = B64[n >>> 10]
  text[41] = B64[(n >>> 4) & 63]
  text[42] = B64[(n << 2) & 63]
  return text.toString('latin1', 0, 43)
}

/** Lower-case hex of 32 bytes. */
export function hex32(b: Uint8Array): string {
  for (let i = 0; i < 32; i++) {
    text[i * 2] = HEX[b[i] >>> 4]
    text[i * 2 + 1] = HEX[b[i] & 15]
  }
  return text.toString('latin1', 0, 64)
}
