import { openLog } from '../log/log.ts'
import { rewriteValues } from '../log/rewrite.ts'
import type { KeyProvider } from '../privacy/keys/key-provider.ts'
import { renewCiphertexts } from '../privacy/reencrypt.ts'
import { deadLetterTopics, requireLog } from './reader.ts'
import type { DeadLetter } from './record.ts'

/** What `reencryptDeadLetters` did. */
export interface DeadLetterReencryptReport {
  topics: number
  letters: number
  /** Ciphertexts that were under an older key and now are under the current one. */
  reencrypted: number
  /** Ciphertexts already under the current key. */
  current: number
}

/**
 * Re-encrypts the personal fields (and encrypted error messages) of the dead letters in a dead-letter log (every dead-letter topic of the
 * folder) under the current keys, so retired keys can be destroyed. Letters keep their offsets, so commit
 * state and redrive progress stay valid; segments are replaced whole and atomically. Run it when no job has
 * the log open.
 * @example await reencryptDeadLetters('state/dlq', keyring) // { topics: 1, letters: 120, reencrypted: 40, current: 0 }
 */
export async function reencryptDeadLetters(dir: string, keys: KeyProvider): Promise<DeadLetterReencryptReport> {
  await requireLog(dir)
  const log = await openLog(dir, { retentionCheckMs: 0 })
  let topics: string[]
  try {
    topics = await deadLetterTopics(log)
  } finally {
    await log.close()
  }
  const report: DeadLetterReencryptReport = { topics: topics.length, letters: 0, reencrypted: 0, current: 0 }
  const purposeOf = new Map<string, string>()
  for (const topic of topics) {
    const r = await rewriteValues(dir, topic, (value) => {
      let letter: DeadLetter
      try {
        letter = JSON.parse(value.toString('utf8')) as DeadLetter
      } catch {
        return undefined // not a letter: kept as it is
      }
      if (letter.recordEncrypted === undefined && letter.error.encrypted !== true) return undefined
      const counts = { reencrypted: 0, current: 0 }
      let record = letter.record
      if (letter.recordEncrypted === 'fields' && typeof record === 'string') {
        // a raw line that was a JSON object: its personal fields are encrypted inside the text
        record = JSON.stringify(renewCiphertexts(keys, JSON.parse(record) as unknown, counts, purposeOf))
      } else {
        record = renewCiphertexts(keys, record, counts, purposeOf)
      }
      const error = letter.error.encrypted === true ? (renewCiphertexts(keys, letter.error, counts, purposeOf) as DeadLetter['error']) : letter.error
      report.reencrypted += counts.reencrypted
      report.current += counts.current
      return counts.reencrypted > 0 ? JSON.stringify({ ...letter, record, error }) : undefined
    })
    report.letters += r.records
  }
  return report
}
