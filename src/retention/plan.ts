import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { CheckpointStorage } from '../checkpoint/storage.ts'
import { closedSegments, lineTime, newestTime, writerRunning } from '../lineage/segments.ts'
import type { ResolvedPolicy } from './policy.ts'
import { planTopics } from './topics.ts'

/**
 * One deletion retention would make: a folder or file removed whole, or the old lines of an NDJSON log.
 * @example { artifact: 'checkpoint', path: '/srv/state/chk-00000004', action: 'remove', reason: 'beyond the newest 3', bytes: 81920 }
 */
export interface RetentionAction {
  artifact: 'checkpoint' | 'savepoint' | 'staging' | 'log' | 'topic'
  path: string
  action: 'remove' | 'trim'
  reason: string
  bytes: number
  /** For `trim`: the lines dropped and kept, and the time (epoch ms) before which lines go. */
  lines?: { dropped: number; kept: number }
  cutoff?: number
  /** For `topic`: the segment of the embedded log that goes (removed through the log, oldest first). */
  segment?: { log: string; topic: string; partition: number; baseOffset: number }
}

const STAGING = /(\.tmp$|^\.part-|^\.tmp-|\.inprogress$)/

/**
 * What retention would delete now under `policy` (nothing is deleted): checkpoints beyond the newest `keep`
 * (never one a kept checkpoint builds on), savepoints and staging leftovers older than their `maxAge` (by
 * modification time), the lines of NDJSON logs whose `eventTime`, `time` or `at` is older than theirs (whole
 * closed segments of a segmented lineage log; never the file a running writer appends to), and
 * the old segments of embedded log topics (see `planTopics`).
 * @example for (const a of await planRetention(resolvePolicy(policy), Date.now())) console.log(a.path, a.reason)
 */
export async function planRetention(policy: ResolvedPolicy, now: number, cwd = process.cwd()): Promise<RetentionAction[]> {
  const out: RetentionAction[] = []
  for (const c of policy.checkpoints) {
    const storage = new CheckpointStorage(resolve(cwd, c.dir))
    for (const id of await storage.unretained(c.keep)) {
      const path = storage.folderOf(id)
      out.push({ artifact: 'checkpoint', path, action: 'remove', reason: `beyond the newest ${c.keep}`, bytes: await sizeOf(path) })
    }
  }
  for (const s of policy.savepoints) {
    for (const e of await entries(resolve(cwd, s.dir))) {
      if (!e.dir) continue
      const age = now - e.mtimeMs
      if (age > s.maxAgeMs) out.push({ artifact: 'savepoint', path: e.path, action: 'remove', reason: `older than ${days(s.maxAgeMs)}`, bytes: await sizeOf(e.path) })
    }
  }
  for (const s of policy.staging) {
    for (const e of await entries(resolve(cwd, s.dir), true)) {
      if (!STAGING.test(e.name) || now - e.mtimeMs <= s.maxAgeMs) continue
      out.push({ artifact: 'staging', path: e.path, action: 'remove', reason: `staging leftover older than ${days(s.maxAgeMs)}`, bytes: await sizeOf(e.path) })
    }
  }
  for (const l of policy.logs) {
    const path = resolve(cwd, l.path)
    const cutoff = now - l.maxAgeMs
    // Closed segments are never written again: they go whole, oldest first, once all their lines are old.
    for (const s of closedSegments(path)) {
      if (newestTime(s.path) >= cutoff) break
      out.push({ artifact: 'log', path: s.path, action: 'remove', reason: `segment with lines older than ${days(l.maxAgeMs)}`, bytes: await sizeOf(s.path), cutoff })
    }
    // The file a running writer appends to is never rewritten: that writer closes it and drops it in time.
    if (writerRunning(path)) continue
    const text = await readFile(path, 'utf8').catch(() => '')
    const lines = text.split('\n').filter((x) => x !== '')
    const old = lines.filter((x) => timeOf(x) < cutoff)
    if (old.length > 0) out.push({ artifact: 'log', path, action: 'trim', reason: `lines older than ${days(l.maxAgeMs)}`, bytes: old.reduce((a, x) => a + Buffer.byteLength(x) + 1, 0), lines: { dropped: old.length, kept: lines.length - old.length }, cutoff })
  }
  out.push(...(await planTopics(policy.topics, now, cwd)))
  return out
}

/** A line's time (epoch ms) from `eventTime`, `time` or `at`; +Infinity (kept) when it has none. */
export const timeOf = lineTime

interface Entry {
  name: string
  path: string
  dir: boolean
  mtimeMs: number
}

async function entries(dir: string, recursive = false): Promise<Entry[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const out: Entry[] = []
  for (const name of names) {
    const path = join(dir, name)
    const s = await stat(path).catch(() => undefined)
    if (s === undefined) continue
    out.push({ name, path, dir: s.isDirectory(), mtimeMs: s.mtimeMs })
    if (recursive && s.isDirectory() && !STAGING.test(name)) out.push(...(await entries(path, true)))
  }
  return out
}

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined)
  if (s === undefined) return 0
  if (!s.isDirectory()) return s.size
  let n = 0
  for (const e of await readdir(path).catch(() => [] as string[])) n += await sizeOf(join(path, e))
  return n
}

const days = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${Math.round(ms / 1000)}s`)
