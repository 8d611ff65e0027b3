import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'

/**
 * A lineage file is written in segments: `<file>` is the one being appended to, and `<file>.1`, `<file>.2`, …
 * are closed ones (lower numbers older), never written again. A file without closed segments is an ordinary
 * single NDJSON file, as older versions wrote.
 */

/** The closed segments of a lineage file, oldest first (absolute paths). */
export function closedSegments(path: string): { path: string; n: number }[] {
  const abs = resolve(path)
  const name = basename(abs)
  let names: string[]
  try {
    names = readdirSync(dirname(abs))
  } catch {
    return []
  }
  const out: { path: string; n: number }[] = []
  for (const f of names) {
    if (!f.startsWith(name + '.')) continue
    const rest = f.slice(name.length + 1)
    if (/^[1-9][0-9]*$/.test(rest)) out.push({ path: join(dirname(abs), f), n: Number(rest) })
  }
  return out.sort((a, b) => a.n - b.n)
}

/**
 * Every file of a lineage log in order: its closed segments, oldest first, then the one being written (if it exists).
 * @example for (const f of lineageFiles('lineage/events.ndjson')) ingest(readFileSync(f, 'utf8'))
 */
export function lineageFiles(path: string): string[] {
  const abs = resolve(path)
  return [...closedSegments(abs).map((s) => s.path), ...(existsSync(abs) ? [abs] : [])]
}

/** The text of a lineage log, all segments in order (each ends with its newline). */
export function readLineageText(path: string): string {
  return lineageFiles(path)
    .map((f) => {
      try {
        return readFileSync(f, 'utf8')
      } catch (e) {
        // A closed segment dropped by retention after it was listed: its lines were old.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ''
        throw e
      }
    })
    .map((t) => (t === '' || t.endsWith('\n') ? t : t + '\n'))
    .join('')
}

/** A line's time (epoch ms) from `eventTime`, `time` or `at`; +Infinity (kept) when it has none. */
export function lineTime(line: string): number {
  try {
    const o = JSON.parse(line) as Record<string, unknown>
    for (const k of ['eventTime', 'time', 'at']) {
      const v = o[k]
      const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN
      if (Number.isFinite(t)) return t
    }
  } catch {
    // a line that is not JSON is kept
  }
  return Infinity
}

/** The newest time of a segment's lines (+Infinity when one has none: it is kept); -Infinity when empty. */
export function newestTime(file: string): number {
  let newest = -Infinity
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return -Infinity
  }
  for (const l of text.split('\n')) if (l !== '') newest = Math.max(newest, lineTime(l))
  return newest
}

/** The file naming the process that writes a lineage log (pid and host). */
export const writerFile = (path: string): string => `${resolve(path)}.writer`

/** Whether a running process of this host writes the lineage log at `path` (so its current file is never rewritten). */
export function writerRunning(path: string): boolean {
  let text: string
  try {
    text = readFileSync(writerFile(path), 'utf8')
  } catch {
    return false
  }
  const [pidText = '', host = ''] = text.split('\n').map((l) => l.trim())
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (host !== '' && host !== hostname()) return true // another host's: cannot be told, so held
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
