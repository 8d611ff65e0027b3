import { userError } from '../../core/errors.ts'
import type { TokenVault } from '../vault/token-vault.ts'
import type { FieldTransform } from './transform.ts'

/**
 * Replaces a value with its token from a vault: deterministic (joins work), reversible only through the vault
 * and its keys.
 * @example privacy.tokenize(vault).apply('ada@example.com') // 'tok_3q2…'
 */
export function tokenize(vault: TokenVault): FieldTransform {
  if (vault === null || typeof vault !== 'object' || typeof vault.tokenize !== 'function') throw userError('SLUICE_BAD_OPTION', 'tokenize: a TokenVault is required')
  return {
    kind: 'tokenize',
    apply: (value) => vault.tokenize(value),
    describe: () => ({ kind: 'tokenize', vault: vault.dir.split(/[\\/]/).pop(), indexKeyId: vault.indexKey }),
  }
}
