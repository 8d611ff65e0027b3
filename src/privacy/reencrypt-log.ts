import { openLog } from '../log/log.ts'
import { rewriteValues } from '../log/rewrite.ts'
import type { KeyProvider } from './keys/key-provider.ts'
import { renewCiphertexts } from './reencrypt.ts'

/** What `reencryptLogTopics` did. */
export interface LogReencryptReport {
  readonly topics: number
  readonly records: number
  readonly reencrypted: number
  readonly current: number
}

/**
 * Re-encrypts every Sluice ciphertext in the JSON values of the topics of an embedded log folder (all of them,
 * or those `only` lets through) whose key is not the current key of its purpose. Values that are not JSON
 * are kept as they are; offsets, keys, timestamps and headers never change (segments are rewritten whole,
 * synced and renamed, see `rewriteValues`). Run it when no job has the log open (it takes the log's lock).
 * @example await reencryptLogTopics('state/log', keyring) // { topics: 2, records: 5000, reencrypted: 1200, current: 0 }
 */
export async function reencryptLogTopics(dir: string, keys: KeyProvider, only: (topic: string) => boolean = () => true): Promise<LogReencryptReport> {
  const log = await openLog(dir, { retentionCheckMs: 0 })
  let topics: string[]
  try {
    topics = log.listTopics().filter(only)
  } finally {
    await log.close()
  }
  const totals = { topics: topics.length, records: 0, reencrypted: 0, current: 0 }
  const purposeOf = new Map<string, string>()
  for (const topic of topics) {
    const r = await rewriteValues(dir, topic, (value) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(value.toString('utf8'))
      } catch {
        return undefined // not JSON: kept as it is
      }
      const counts = { reencrypted: 0, current: 0 }
      const renewed = renewCiphertexts(keys, parsed, counts, purposeOf)
      totals.reencrypted += counts.reencrypted
      totals.current += counts.current
      return counts.reencrypted > 0 ? JSON.stringify(renewed) : undefined
    })
    totals.records += r.records
  }
  return totals
}
