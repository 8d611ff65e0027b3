import { userError } from '../../core/errors.ts'

/** The environment variable the local keyring's master key is read from. */
export const MASTER_KEY_ENV = 'SLUICE_MASTER_KEY'

/**
 * Reads a 32-byte master key given as base64 or 64 hex digits; the error names the variable, never the value.
 * @example const keyring = LocalKeyring.openOrCreate('keys', masterKeyFrom())
 */
export function masterKeyFrom(env: NodeJS.ProcessEnv = process.env, name = MASTER_KEY_ENV): Buffer {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') {
    throw userError('SLUICE_KEY_MISSING', `the keyring's master key is not set: ${name} is empty`, { hint: `set ${name} to 32 random bytes in base64, e.g. the output of \`openssl rand -base64 32\`` })
  }
  const text = raw.trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64')
  if (bytes.length !== 32) {
    throw userError('SLUICE_KEY_MISSING', `${name} must hold 32 bytes (base64 or 64 hex digits); it decodes to ${bytes.length}`, { hint: 'generate one with `openssl rand -base64 32`' })
  }
  return bytes
}
