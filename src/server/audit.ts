import { openLog, type Log } from '../log/index.ts'
import type { Topic } from '../log/index.ts'
import type { Duration } from '../core/duration.ts'
import type { SettingChange } from './settings.ts'

/** One audited call: who (token id, or none), what (method and route), when, and how it ended. */
export interface AuditEntry {
  at: number
  who: string | null
  role: string | null
  method: string
  path: string
  status: number
  outcome: 'ok' | 'refused' | 'failed'
  /** What a settings change changed: each setting with its value before and after. */
  changes?: SettingChange[]
}

const TOPIC = 'audit'

/**
 * The append-only audit log of the control plane: a topic of the embedded log, which has no delete or
 * rewrite but its retention (old segments, whole); the API only reads it.
 * @example
 * const audit = await AuditLog.open('state/server/log')
 * await audit.append({ at: Date.now(), who: 'a1b2', role: 'operator', method: 'POST', path: '/api/jobs/clicks/savepoint', status: 200, outcome: 'ok' })
 */
export class AuditLog {
  private readonly log: Log
  private readonly topic: Topic

  private constructor(log: Log, topic: Topic) {
    this.log = log
    this.topic = topic
  }

  /**
   * Opens the audit log in `dir`. With `maxAge`, entries are kept that long: whole old segments go once their
   * newest entry is older, enforced by the open log every 5 minutes (the setting is kept in the topic).
   */
  static async open(dir: string, retention: { maxAge?: Duration } = {}): Promise<AuditLog> {
    const log = await openLog(dir)
    try {
      const topic = await log.ensureTopic(TOPIC, { partitions: 1 })
      if (retention.maxAge !== undefined) await log.setRetention(TOPIC, { retentionMs: retention.maxAge, retentionBytes: null })
      return new AuditLog(log, topic)
    } catch (e) {
      await log.close()
      throw e
    }
  }

  async append(e: AuditEntry): Promise<void> {
    await this.topic.partitions[0]!.append([{ value: JSON.stringify(e), timestamp: e.at }])
  }

  /** Entries from the oldest, at most `limit` from offset `from`. */
  async read(from = 0, limit = 1000): Promise<AuditEntry[]> {
    const p = this.topic.partitions[0]!
    const out: AuditEntry[] = []
    let next = from
    while (out.length < limit && next < p.endOffset) {
      const b = await p.readBatch(next, { maxRecords: limit - out.length })
      if (b.offsets.length === 0) break
      for (const v of b.values) out.push(JSON.parse(v.toString('utf8')) as AuditEntry)
      next = b.nextOffset
    }
    return out
  }

  close(): Promise<void> {
    return this.log.close()
  }
}
