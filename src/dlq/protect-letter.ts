import type { KeyProvider } from '../privacy/keys/key-provider.ts'
import { protectPersonal } from '../privacy/personal-defaults.ts'
import { encrypt } from '../privacy/transforms/encrypt.ts'
import type { DeadLetter } from './record.ts'

/**
 * Keeps the personal fields of dead letters encrypted at rest: a record (or a raw line that is a JSON object)
 * gets those fields encrypted with `keys` (AES-256-GCM, the key id in each ciphertext; `sluice keys` rotates
 * it); a raw line that is not JSON is encrypted whole. The letter says which (`recordEncrypted`). The message
 * and stack of an error that is not Sluice's own (a user function's, a parser's) are encrypted too
 * (`error.encrypted`): such a message may quote the record; Sluice's own messages never do.
 * @example const protectLetter = personalLetters(['email', 'card'], keys)
 */
export function personalLetters(personal: readonly string[], keys: KeyProvider): (d: DeadLetter) => DeadLetter {
  const t = encrypt({ keys })
  const fields = protectPersonal<Record<string, unknown>>({ name: 'dead letters', personal }, { default: t })
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
  const error = (e: DeadLetter['error']): DeadLetter['error'] =>
    e.code?.startsWith('SLUICE_') === true || e.encrypted === true ? e : { ...e, message: t.apply(e.message) as string, ...(e.stack !== undefined ? { stack: t.apply(e.stack) as string } : {}), encrypted: true }
  const record = (d: DeadLetter): Pick<DeadLetter, 'record' | 'recordEncrypted'> => {
    if (d.recordFormat === 'json' && isObject(d.record)) return { record: fields(d.record), recordEncrypted: 'fields' }
    if (d.recordFormat === 'json' && (d.record === null || typeof d.record !== 'object')) return { record: d.record, ...(d.recordEncrypted !== undefined ? { recordEncrypted: d.recordEncrypted } : {}) }
    if (d.recordFormat === 'raw' || d.recordFormat === 'text') {
      try {
        const parsed = JSON.parse(String(d.record)) as unknown
        if (isObject(parsed)) return { record: JSON.stringify(fields(parsed)), recordEncrypted: 'fields' }
      } catch {
        // not JSON: encrypted whole below
      }
    }
    return { record: t.apply(d.record), recordEncrypted: 'whole' }
  }
  return (d) => (personal.length === 0 ? d : { ...d, ...record(d), error: error(d.error) })
}
