import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { openLog } from '../log/log.ts'
import { segmentsToDelete } from '../log/retention.ts'
import type { RetentionAction } from './plan.ts'

/** The embedded log topics a policy covers: every topic of `dir` (dead letters too), or one. */
export interface TopicsRetention {
  dir: string
  topic?: string
  /** Overrides the topics' own `retentionMs`; null keeps theirs. */
  maxAgeMs: number | null
  /** Overrides the topics' own `retentionBytes` (per partition); null keeps theirs. */
  maxBytes: number | null
}

/**
 * The whole old segments of embedded log topics past their retention (the policy's, else the topic's own):
 * those whose newest record is older than the maximum age, then the oldest while a partition holds more than
 * the maximum bytes. The segment being written is never one. A log that a running job holds is skipped: that
 * job's log enforces its topics' retention itself.
 */
export async function planTopics(entries: readonly TopicsRetention[], now: number, cwd: string): Promise<RetentionAction[]> {
  const out: RetentionAction[] = []
  for (const e of entries) {
    const dir = resolve(cwd, e.dir)
    if (!existsSync(join(dir, 'sluice-log.json'))) continue
    const log = await openIfFree(dir)
    if (log === undefined) continue
    try {
      for (const name of log.listTopics()) {
        if (e.topic !== undefined && name !== e.topic) continue
        const t = log.topic(name)
        const policy = { retentionMs: e.maxAgeMs ?? t.config.retentionMs, retentionBytes: e.maxBytes ?? t.config.retentionBytes }
        if (policy.retentionMs === null && policy.retentionBytes === null) continue
        for (const p of t.partitions) {
          const sealed = p.sealedSegments()
          const n = segmentsToDelete(sealed, p.sizeBytes, policy, now)
          for (const s of sealed.slice(0, n)) {
            const old = policy.retentionMs !== null && s.maxTimestamp < now - policy.retentionMs
            out.push({
              artifact: 'topic',
              path: s.path,
              action: 'remove',
              reason: `topic ${name} partition ${p.id}: ${old ? `records older than ${ageText(policy.retentionMs!)}` : `beyond ${policy.retentionBytes} bytes`}`,
              bytes: s.visibleSize,
              segment: { log: dir, topic: name, partition: p.id, baseOffset: s.baseOffset },
            })
          }
        }
      }
    } finally {
      await log.close()
    }
  }
  return out
}

/**
 * Deletes the planned segments of one log through the log itself (its partition file first, then the
 * segments, oldest first), so offsets stay contiguous and readers see the new start offset.
 */
export async function removeSegments(actions: readonly RetentionAction[]): Promise<void> {
  const byLog = new Map<string, RetentionAction[]>()
  for (const a of actions) if (a.segment !== undefined) byLog.set(a.segment.log, [...(byLog.get(a.segment.log) ?? []), a])
  for (const [dir, list] of byLog) {
    const log = await openLog(dir, { retentionCheckMs: 0 })
    try {
      const last = new Map<string, { topic: string; partition: number; base: number }>()
      for (const a of list) {
        const s = a.segment!
        const key = `${s.topic}\u0000${s.partition}`
        if ((last.get(key)?.base ?? -1) < s.baseOffset) last.set(key, { topic: s.topic, partition: s.partition, base: s.baseOffset })
      }
      for (const { topic, partition, base } of last.values()) {
        const p = log.topic(topic).partition(partition)
        const k = p.sealedSegments().findIndex((s) => s.baseOffset === base) + 1
        if (k > 0) await p.deleteOldest(k)
      }
    } finally {
      await log.close()
    }
  }
}

async function openIfFree(dir: string): Promise<Awaited<ReturnType<typeof openLog>> | undefined> {
  try {
    return await openLog(dir, { retentionCheckMs: 0 })
  } catch (e) {
    if (e instanceof SluiceError && e.code === 'SLUICE_LOG_LOCKED') return undefined
    throw e
  }
}

const ageText = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${Math.round(ms / 1000)}s`)
