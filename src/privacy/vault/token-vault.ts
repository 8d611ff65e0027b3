import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import type { RootDatabase } from 'lmdb'
import { lazyRequire } from '../../core/lazy-require.ts'
import { userError } from '../../core/errors.ts'
import type { KeyProvider } from '../keys/key-provider.ts'
import { HmacSha256 } from '../transforms/sha256-hmac.ts'

const lmdb = lazyRequire<typeof import('lmdb')>(import.meta.url, 'lmdb')
import { decryptValue, encryptValue } from '../transforms/encrypt.ts'
import { textOf } from '../transforms/transform.ts'

const INDEX_KEY = 'meta:index-key'

/**
 * Reversible pseudonyms: each distinct value gets a random token (`tok_` and 22 characters), the same one every
 * time, and the vault keeps the value encrypted under the `vault` key purpose. Nothing about the value can be
 * learned from the token; getting it back needs the vault and the keys (`detokenize`).
 * Stored in LMDB: `v:<HMAC of the value>` gives the token, `t:<token>` the encrypted value. The HMAC key is
 * pinned by id in the vault when it is created, so rotating keys never changes a value's token.
 * @example const vault = TokenVault.open('data/vault', keys); vault.tokenize('ada@example.com') // 'tok_…'
 */
export class TokenVault {
  /**
   * The vault's folder.
   * @example TokenVault.open('state/vault', keys).dir // 'state/vault'
   */
  readonly dir: string
  private readonly db: RootDatabase<string, string>
  private readonly keys: KeyProvider
  private readonly index: HmacSha256
  private readonly indexKeyId: string
  private readonly cache = new Map<string, string>()

  private constructor(dir: string, db: RootDatabase<string, string>, keys: KeyProvider) {
    this.dir = dir
    this.db = db
    this.keys = keys
    let keyId = db.get(INDEX_KEY)
    if (keyId === undefined) {
      keyId = keys.current('vault').id
      db.putSync(INDEX_KEY, keyId)
    }
    this.indexKeyId = keyId
    this.index = new HmacSha256(keys.byId(keyId).material)
  }

  /**
   * Opens (or creates) the vault in folder `dir`; `keys` must hold a key of purpose `vault`.
   * @example const vault = TokenVault.open('state/vault', keys)
   */
  static open(dir: string, keys: KeyProvider): TokenVault {
    mkdirSync(dir, { recursive: true })
    const db = lmdb().open<string, string>({ path: dir, encoding: 'string' })
    try {
      return new TokenVault(dir, db, keys)
    } catch (e) {
      void db.close()
      throw e
    }
  }

  /**
   * The token of `value` (created and stored durably on first sight). `null`/`undefined` pass through.
   * @example const token = vault.tokenize('ada@example.com') // the same token every time
   */
  tokenize(value: unknown): unknown {
    if (value === null || value === undefined) return value
    const text = textOf(value)
    const hit = this.cache.get(text)
    if (hit !== undefined) return hit
    const ref = `v:${this.index.base64url(text)}`
    let token = this.db.get(ref)
    if (token === undefined) {
      const fresh = `tok_${randomBytes(16).toString('base64url')}`
      const sealed = encryptValue(this.keys, 'vault', value)
      token = this.db.transactionSync(() => {
        const raced = this.db.get(ref)
        if (raced !== undefined) return raced
        void this.db.put(ref, fresh)
        void this.db.put(`t:${fresh}`, sealed)
        return fresh
      })
    }
    if (this.cache.size >= 65536) this.cache.clear()
    this.cache.set(text, token)
    return token
  }

  /**
   * The value behind a token; an unknown token is an error naming it (tokens are not personal data).
   * @example vault.detokenize(token) // 'ada@example.com'
   */
  detokenize(token: string): unknown {
    const sealed = typeof token === 'string' ? this.db.get(`t:${token}`) : undefined
    if (sealed === undefined) throw userError('SLUICE_TOKEN_UNKNOWN', `token '${String(token)}' is not in the vault at '${this.dir}'`)
    return decryptValue(this.keys, sealed)
  }

  /**
   * The id of the key the value index was made with (pinned at creation).
   * @example keys.byId(vault.indexKey).purpose // 'vault': the key the vault's index was made with
   */
  get indexKey(): string {
    return this.indexKeyId
  }

  /**
   * Closes the store; tokens already handed out stay valid.
   * @example await vault.close()
   */
  async close(): Promise<void> {
    await this.db.close()
  }
}
