/**
 * A secret key known by its id; `material` never leaves the process (not in manifests, logs, metrics, lineage).
 * @example const { id, purpose } = keys.current('hash') // the key new values are hashed with
 */
export interface DataKey {
  /** Stable id written next to what the key protects (in ciphertexts, tokens' vault entries). */
  readonly id: string
  /** What the key is for (`default`, `hash`, `vault`...): each purpose rotates on its own. */
  readonly purpose: string
  /** 32 bytes. */
  readonly material: Buffer
}

/**
 * Where keys come from. The local keyring (`LocalKeyring`) is the first implementation; a cloud KMS can plug in
 * behind the same two calls.
 * @example const key = keys.current('default'); keys.byId(key.id) // the same key, by the id stored with the data; retired keys too
 */
export interface KeyProvider {
  /** The key new data of this purpose is protected with. */
  current(purpose?: string): DataKey
  /** Any key ever issued, current or retired, so old data stays readable. */
  byId(id: string): DataKey
}
