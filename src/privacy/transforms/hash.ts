import { userError } from '../../core/errors.ts'
import type { KeyProvider } from '../keys/key-provider.ts'
import { HmacSha256 } from './sha256-hmac.ts'
import { textOf, type FieldTransform } from './transform.ts'

/**
 * The key and output of `hash`.
 * @example privacy.hash({ keys, purpose: 'email', encoding: 'hex' }) // an HMAC of the value under the current 'email' key
 */
export interface HashOptions {
  /** Where the key comes from (a `LocalKeyring`). */
  keys: KeyProvider
  /**
   * The key to use, by id. Pin it: a hash is a pseudonym that joins only with hashes made by the same key, so
   * rotating a hash key changes every pseudonym. Default: the current key of `purpose`.
   */
  keyId?: string
  /** Default `hash`. */
  purpose?: string
  /** Default `base64url` (43 characters); `hex` gives 64. */
  encoding?: 'base64url' | 'hex'
  /**
   * Values whose hash is remembered (repeated keys are common). Default 4096; 0 turns it off. It turns itself off
   * for a while when values hardly repeat.
   */
  cacheSize?: number
}

/**
 * A keyed, deterministic pseudonym: HMAC-SHA-256 of the value's text. The same value gives the same output
 * under the same key, so joins and group-bys still work; without the key it cannot be reversed or guessed
 * by hashing candidates.
 * @example privacy.hash({ keys, keyId: 'hash-20261202-1a2b3c4d' }).apply('ada@example.com') // 'x1J…' (43 chars)
 */
export function hash(options: HashOptions): FieldTransform {
  if (options === null || typeof options !== 'object' || options.keys === undefined) throw userError('SLUICE_BAD_OPTION', "hash: 'keys' (a key provider) is required")
  const key = options.keyId !== undefined ? options.keys.byId(options.keyId) : options.keys.current(options.purpose ?? 'hash')
  const hasher = new HmacSha256(key.material)
  const encoding = options.encoding ?? 'base64url'
  const macText = encoding === 'hex' ? (text: string) => hasher.hex(text) : (text: string) => hasher.base64url(text)
  const cacheSize = options.cacheSize ?? 4096
  const cache = new Map<string, string>()
  // The cache pays only when values repeat: looking up and storing a value costs about a third of hashing it.
  // Each time it fills, fewer than one hit per four misses turns it off for the next eight fills' worth of
  // values, then it is tried again. Outputs are the same either way.
  let hits = 0
  let bypass = 0
  return {
    kind: 'hash',
    apply(value) {
      if (value === null || value === undefined) return value
      const text = textOf(value)
      if (cacheSize === 0) return macText(text)
      if (bypass > 0) {
        bypass--
        return macText(text)
      }
      let out = cache.get(text)
      if (out !== undefined) {
        hits++
        return out
      }
      out = macText(text)
      if (cache.size >= cacheSize) {
        if (hits * 4 < cacheSize) bypass = cacheSize * 8
        hits = 0
        cache.clear()
      }
      cache.set(text, out)
      return out
    },
    describe: () => ({ kind: 'hash', algorithm: 'HMAC-SHA-256', keyId: key.id, encoding }),
  }
}
