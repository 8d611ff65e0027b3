export type { DataKey, KeyProvider } from './keys/key-provider.ts'
export { LocalKeyring, type KeyInfo } from './keys/local-keyring.ts'
export { masterKeyFrom, MASTER_KEY_ENV } from './keys/master-key.ts'
export type { FieldTransform, TransformKind } from './transforms/transform.ts'
import { mask, redact } from './transforms/mask.ts'
import { hash } from './transforms/hash.ts'
import { encrypt, decrypt } from './transforms/encrypt.ts'
import { tokenize } from './transforms/tokenize.ts'
import { protect } from './protect.ts'
import { protectPersonal } from './personal-defaults.ts'
export { mask, redact, type MaskOptions } from './transforms/mask.ts'
export { hash, type HashOptions } from './transforms/hash.ts'
export { encrypt, decrypt, isCiphertext, ciphertextKeyId, type EncryptOptions } from './transforms/encrypt.ts'
export { tokenize } from './transforms/tokenize.ts'
export { TokenVault } from './vault/token-vault.ts'
export { protectPersonal, type PersonalFields } from './personal-defaults.ts'
export { protect, type ProtectSpec, type Protected, type ProtectFn, type ProtectDescription } from './protect.ts'

/**
 * Privacy transforms for personal fields: use them in `protect({...})` with `map`, or one by one.
 * @example events.map(privacy.protect({ email: privacy.hash({ keys }), card: privacy.mask({ keepLast: 4 }) }))
 */
export const privacy = { protect, protectPersonal, mask, redact, hash, encrypt, decrypt, tokenize }
