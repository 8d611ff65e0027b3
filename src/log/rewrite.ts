import { rename, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { encodeBatch, SEGMENT_HEADER_BYTES, writeSegmentHeader, type LogRecordInput } from './frame.ts'
import { syncDir, writeFileDurable } from './fs-util.ts'
import { SparseIndex } from './index-file.ts'
import { lockDir } from './lock.ts'
import { openLog } from './log.ts'

/** What `rewriteValues` did. */
export interface RewriteReport {
  records: number
  changed: number
  segments: number
}

interface Planned {
  path: string
  indexPath: string
  base: number
  size: number
  interval: number
  records: LogRecordInput[]
}

/**
 * Replaces record values of a topic in place, keeping every offset, key, timestamp and header: `change`
 * returns a record's new value, or undefined to keep it. Each segment holding a changed record is written
 * whole to a new file (synced) that is renamed over the old one, its index removed before and written after,
 * so a crash leaves every segment old or new and readable (a missing index is rebuilt when the log opens).
 * Run it on a log no job has open (it takes the log's lock); it holds the records of one topic in memory.
 * @example await rewriteValues('state/dlq', 'orders.dlq', (v) => reencrypt(v))
 */
export async function rewriteValues(dir: string, topic: string, change: (value: Buffer) => Uint8Array | string | undefined): Promise<RewriteReport> {
  const report: RewriteReport = { records: 0, changed: 0, segments: 0 }
  const planned: Planned[] = []
  const log = await openLog(dir, { retentionCheckMs: 0 })
  try {
    const t = log.topic(topic)
    for (const p of t.partitions) {
      const segs = p.segments.filter((s) => s.created)
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i]!
        const end = i + 1 < segs.length ? segs[i + 1]!.baseOffset : p.endOffset
        const records: LogRecordInput[] = []
        let changed = false
        for (let at = Math.max(s.baseOffset, p.startOffset); at < end; ) {
          const b = await log.readBatch(topic, p.id, at, { maxRecords: 1000 })
          if (b.offsets.length === 0) break
          for (let k = 0; k < b.offsets.length && b.offsets[k]! < end; k++) {
            const next = change(b.values[k]!)
            if (next !== undefined) {
              changed = true
              report.changed++
            }
            const headers = b.headers?.[k]
            records.push({ value: next ?? b.values[k]!, key: b.keys[k] ?? null, timestamp: b.timestamps[k]!, ...(headers ? { headers } : {}) })
          }
          at = b.nextOffset
        }
        report.records += records.length
        if (!changed) continue
        planned.push({ path: s.path, indexPath: s.indexPath, base: s.baseOffset, size: s.visibleSize, interval: t.config.indexIntervalBytes, records })
      }
    }
  } finally {
    await log.close()
  }
  if (planned.length === 0) return report
  const release = await lockDir(dir)
  try {
    for (const s of planned) {
      // A job that opened the log between our reading and our lock may have appended: then nothing is replaced.
      if ((await stat(s.path)).size !== s.size) {
        throw new SluiceError('SLUICE_LOG_LOCKED', `log segment ${s.path} changed while its records were rewritten`, { domain: 'user', hint: 'run it again when no job has the log open' })
      }
      const index = new SparseIndex(s.interval)
      const body = encodeBatch(s.records, s.base, SEGMENT_HEADER_BYTES, Date.now(), Number.MAX_SAFE_INTEGER, index)
      await writeFileDurable(`${s.path}.rewrite.tmp`, Buffer.concat([writeSegmentHeader(s.base), body.buf]))
      await rm(s.indexPath, { force: true })
      await syncDir(dirname(s.path))
      await rename(`${s.path}.rewrite.tmp`, s.path)
      await syncDir(dirname(s.path))
      await writeFileDurable(s.indexPath, index.encode(s.base))
      report.segments++
    }
  } finally {
    await release()
  }
  return report
}
