import { createCipheriv, createDecipheriv, createSecretKey, randomFillSync, type KeyObject } from 'node:crypto'

const IV_BYTES = 12
const TAG_BYTES = 16

// Given a Buffer key, `createCipheriv` first asks whether it is a KeyObject, then a CryptoKey, each by a brand
// check that throws and catches an error: about 20 us per call, ten times the cipher's own cost. A KeyObject made
// once per key passes the first check at once. Keys live as long as the process anyway (the keyring caches them).
const keyObjects = new WeakMap<Buffer, KeyObject>()

function keyObject(key: Buffer): KeyObject {
  let k = keyObjects.get(key)
  if (k === undefined) {
    k = createSecretKey(key)
    keyObjects.set(key, k)
  }
  return k
}

// Nonces come from the CSPRNG in batches: one `randomBytes(12)` per value cost more than the encryption. Each
// 12-byte slice is handed out once, so every value still gets its own random 96-bit nonce.
const nonces = Buffer.alloc(IV_BYTES * 1024)
let nonceAt = nonces.length

function freshIv(): Buffer {
  if (nonceAt === nonces.length) {
    randomFillSync(nonces)
    nonceAt = 0
  }
  nonceAt += IV_BYTES
  return nonces.subarray(nonceAt - IV_BYTES, nonceAt)
}

/** AES-256-GCM: returns iv (12) | tag (16) | ciphertext. `aad` is authenticated, not encrypted. */
export function seal(key: Buffer, plain: Buffer, aad: string | Buffer, iv: Buffer = freshIv()): Buffer {
  const cipher = createCipheriv('aes-256-gcm', keyObject(key), iv)
  cipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad)
  const body = Buffer.concat([cipher.update(plain), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body])
}

/** Opens what `seal` made; throws when the key, the aad or any byte is wrong. */
export function open(key: Buffer, sealed: Buffer, aad: string | Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value is too short')
  const decipher = createDecipheriv('aes-256-gcm', keyObject(key), sealed.subarray(0, IV_BYTES))
  decipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad)
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()])
}
