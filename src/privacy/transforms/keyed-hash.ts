import { createHash, type Hash } from 'node:crypto'

const BLOCK = 64

/**
 * HMAC-SHA-256 with the key schedule done once: the inner and outer hash states after the padded key are kept
 * and copied per value, which is several times faster than `createHmac` per value (RFC 2104; known-answer tests
 * against RFC 4231 in keyed-hash.test.ts).
 */
export class KeyedHash {
  private readonly inner: Hash
  private readonly outer: Hash

  constructor(key: Buffer) {
    const k = key.length > BLOCK ? createHash('sha256').update(key).digest() : key
    const ipad = Buffer.alloc(BLOCK, 0x36)
    const opad = Buffer.alloc(BLOCK, 0x5c)
    for (let i = 0; i < k.length; i++) {
      ipad[i] ^= k[i]
      opad[i] ^= k[i]
    }
    this.inner = createHash('sha256').update(ipad)
    this.outer = createHash('sha256').update(opad)
  }

  /** The 32-byte HMAC of `data`. */
  digest(data: string | Buffer): Buffer {
    return this.outer.copy().update(this.inner.copy().update(data).digest()).digest()
  }
}
