import { appendFileSync, mkdirSync } from 'node:fs'
import { appendFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { newestTime } from '../lineage/segments.ts'
import { timeOf, type RetentionAction } from './plan.ts'
import { removeSegments } from './topics.ts'

/**
 * Carries out a retention plan and logs every deletion as one JSON line in `logFile` (time, artifact, path,
 * action, reason, bytes) before it is made, so the log shows what went even if the process dies half-way.
 * A segmented lineage log loses whole closed segments, which no one writes again; the file a running writer
 * appends to is never planned. A log without a writer is rewritten to a temporary file, fsynced and renamed
 * over the old one (what was appended meanwhile is copied along). Returns the actions done.
 * @example await applyRetention(await planRetention(policy, Date.now()), '.sluice/retention.log', Date.now())
 */
export async function applyRetention(plan: readonly RetentionAction[], logFile: string, now: number): Promise<RetentionAction[]> {
  await mkdir(dirname(logFile), { recursive: true })
  const done: RetentionAction[] = []
  for (const a of plan) {
    await appendFile(logFile, deletionLine(a, now))
    if (a.segment !== undefined) continue // removed below, through the log
    // A lineage segment goes only if it still holds old lines alone (its name cannot have been taken anew since).
    if (a.artifact === 'log' && a.action === 'remove') {
      if (newestTime(a.path) < (a.cutoff ?? -Infinity)) await rm(a.path, { force: true })
    } else if (a.action === 'remove') await rm(a.path, { recursive: true, force: true })
    else await trim(a.path, a.cutoff ?? -Infinity)
    done.push(a)
  }
  const segments = plan.filter((a) => a.segment !== undefined)
  await removeSegments(segments)
  return [...done, ...segments]
}

async function trim(path: string, cutoff: number): Promise<void> {
  const buf = await readFile(path).catch(() => Buffer.alloc(0))
  // Whole lines only: a last line without its newline may be an append under way, copied as it is below.
  const whole = buf.lastIndexOf(10) + 1
  const kept = buf.subarray(0, whole).toString('utf8').split('\n').filter((l) => l !== '' && timeOf(l) >= cutoff)
  const tmp = `${path}.retention.tmp`
  const f = await open(tmp, 'w')
  try {
    await f.writeFile(kept.length > 0 ? kept.join('\n') + '\n' : '')
    // What was appended since the read goes along (from the last whole line on), until the size holds still.
    let from = whole
    for (;;) {
      const grown = await readFrom(path, from)
      if (grown.length === 0) break
      await f.writeFile(grown)
      from += grown.length
    }
    await f.sync()
  } finally {
    await f.close()
  }
  await rename(tmp, path)
}

async function readFrom(path: string, offset: number): Promise<Buffer> {
  const f = await open(path, 'r').catch(() => undefined)
  if (f === undefined) return Buffer.alloc(0)
  try {
    const { size } = await f.stat()
    if (size <= offset) return Buffer.alloc(0)
    const out = Buffer.alloc(size - offset)
    const { bytesRead } = await f.read(out, 0, out.length, offset)
    return out.subarray(0, bytesRead)
  } finally {
    await f.close()
  }
}

const deletionLine = (a: RetentionAction, now: number): string => JSON.stringify({ time: new Date(now).toISOString(), ...a }) + '\n'

/**
 * Logs a lineage segment that a running file transport drops by itself (its `onDrop`), as `applyRetention`
 * logs its deletions, before it goes.
 * @example fileTransport('lineage/events.ndjson', { maxAge: '30d', onDrop: (d) => logDrop('.sluice/retention.log', d, 30 * 86_400_000) })
 */
export function logDrop(logFile: string, drop: { path: string; bytes: number; cutoff?: number }, maxAgeMs: number, now = Date.now()): void {
  mkdirSync(dirname(logFile), { recursive: true })
  const reason = `segment with lines older than ${maxAgeMs % 86_400_000 === 0 ? `${maxAgeMs / 86_400_000}d` : `${Math.round(maxAgeMs / 1000)}s`}, dropped by its writer`
  appendFileSync(logFile, deletionLine({ artifact: 'log', path: drop.path, action: 'remove', reason, bytes: drop.bytes, ...(drop.cutoff !== undefined ? { cutoff: drop.cutoff } : {}) }, now))
}
