import { SluiceError, userError } from '../../core/errors.ts'
import { open, seal } from '../keys/aes-gcm.ts'
import type { KeyProvider } from '../keys/key-provider.ts'
import type { FieldTransform } from './transform.ts'

/** Every ciphertext starts with this, then the key id, then base64url(iv | tag | ciphertext). */
export const CIPHERTEXT_PREFIX = 'sl:enc:1:'

/**
 * The keys and purpose of `encrypt`.
 * @example events.map(privacy.protect({ iban: privacy.encrypt({ keys, purpose: 'payments' }) }))
 */
export interface EncryptOptions {
  /** Where the keys come from (a `LocalKeyring`). */
  keys: KeyProvider
  /** Default `default`. New values use this purpose's current key; old ones decrypt with the key they name. */
  purpose?: string
}

/** Whether `value` is a ciphertext made by `encrypt`. */
export function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(CIPHERTEXT_PREFIX)
}

/** The id of the key a ciphertext was made with. */
export function ciphertextKeyId(value: string): string {
  const end = value.indexOf(':', CIPHERTEXT_PREFIX.length)
  if (!isCiphertext(value) || end < 0) throw userError('SLUICE_DECRYPT_FAILED', 'value is not a Sluice ciphertext')
  return value.slice(CIPHERTEXT_PREFIX.length, end)
}

/** Encrypts one value (its JSON, so numbers and objects come back as they were) with `key`. */
export function encryptValue(keys: KeyProvider, purpose: string, value: unknown): string {
  const key = keys.current(purpose)
  const sealed = seal(key.material, Buffer.from(JSON.stringify(value), 'utf8'), key.id)
  return `${CIPHERTEXT_PREFIX}${key.id}:${sealed.toString('base64url')}`
}

/** Decrypts what `encryptValue` made, with the key it names. */
export function decryptValue(keys: KeyProvider, text: string): unknown {
  const keyId = ciphertextKeyId(text)
  const key = keys.byId(keyId)
  let plain: Buffer
  try {
    plain = open(key.material, Buffer.from(text.slice(CIPHERTEXT_PREFIX.length + keyId.length + 1), 'base64url'), keyId)
  } catch {
    throw new SluiceError('SLUICE_DECRYPT_FAILED', `a ciphertext made with key '${keyId}' fails its authentication (damaged, or changed)`, { domain: 'user' })
  }
  return JSON.parse(plain.toString('utf8'))
}

/**
 * Field encryption: AES-256-GCM with a fresh 96-bit nonce per value, the key id in the ciphertext
 * (`sl:enc:1:<keyId>:<data>`) and authenticated with it. Keys come wrapped from the keyring (envelope
 * encryption). Not deterministic: equal values give different ciphertexts (use `hash` or `tokenize` to join).
 * @example privacy.encrypt({ keys }).apply('1985-07-01') // 'sl:enc:1:default-20261202-…:…'
 */
export function encrypt(options: EncryptOptions): FieldTransform {
  if (options === null || typeof options !== 'object' || options.keys === undefined) throw userError('SLUICE_BAD_OPTION', "encrypt: 'keys' (a key provider) is required")
  const purpose = options.purpose ?? 'default'
  const current = options.keys.current(purpose)
  return {
    kind: 'encrypt',
    apply: (value) => (value === null || value === undefined ? value : encryptValue(options.keys, purpose, value)),
    describe: () => ({ kind: 'encrypt', algorithm: 'AES-256-GCM', purpose, keyId: current.id }),
  }
}

/**
 * The inverse of `encrypt`: any ciphertext whose key is in the provider, current or retired. Values that are
 * not ciphertexts pass through unchanged.
 * @example privacy.decrypt({ keys }).apply(privacy.encrypt({ keys }).apply('1985-07-01')) // '1985-07-01'
 */
export function decrypt(options: { keys: KeyProvider }): FieldTransform {
  if (options === null || typeof options !== 'object' || options.keys === undefined) throw userError('SLUICE_BAD_OPTION', "decrypt: 'keys' (a key provider) is required")
  return {
    kind: 'decrypt',
    apply: (value) => (isCiphertext(value) ? decryptValue(options.keys, value) : value),
    describe: () => ({ kind: 'decrypt', algorithm: 'AES-256-GCM' }),
  }
}
