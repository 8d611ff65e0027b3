import { appendFile, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, resolve } from 'node:path'
import { parseDuration, type Duration } from '../core/duration.ts'
import { userError } from '../core/errors.ts'
import { closedSegments, lineTime, newestTime, writerFile } from './segments.ts'
import type { RunEvent } from './openlineage.ts'

/**
 * Where lineage events go. `send` resolves once the event is written or accepted; a failure rejects and the
 * job goes on.
 * @example
 * const sent: RunEvent[] = []
 * const t: LineageTransport = { describe: 'memory', send: async (e) => { sent.push(e) } }
 */
export interface LineageTransport {
  /** What it is, for messages: a file path, a URL (without credentials), 'console'. */
  readonly describe: string
  send(event: RunEvent): Promise<void>
}

/** How a lineage file is kept. */
export interface FileTransportOptions {
  /** Drop closed segments whose newest line is older than this (a retention policy's `logs` entry). Default: kept. */
  maxAge?: Duration
  /** How long one segment is written before it is closed. Default a quarter of `maxAge`, at most 1 hour. */
  segment?: Duration
  /** Epoch ms; default Date.now. */
  now?: () => number
  /** Told of each closed segment dropped, before it goes (to log it). */
  onDrop?: (drop: { path: string; bytes: number; cutoff: number }) => void
}

// One queue per file in this process: segments roll only between whole appends.
const queues = new Map<string, Promise<unknown>>()

/**
 * Appends each event as one JSON line to a file (created with its folder), in segments: `<file>` is written,
 * and once it has been written for `segment` it is closed as `<file>.<n>` (numbers rising). Given `maxAge`,
 * the transport drops whole closed segments older than that itself while it runs, so the file never grows
 * without bound and no line is rewritten. Read the whole log with `lineageFiles` (closed segments, then `<file>`).
 * @example fileTransport('lineage/events.ndjson', { maxAge: '30d' })
 */
export function fileTransport(path: string, options: FileTransportOptions = {}): LineageTransport {
  const abs = resolve(path)
  const maxAgeMs = options.maxAge !== undefined ? parseDuration(options.maxAge, 'lineage maxAge') : undefined
  const segmentMs = options.segment !== undefined ? parseDuration(options.segment, 'lineage segment') : Math.min(HOUR, maxAgeMs !== undefined ? Math.max(1, Math.floor(maxAgeMs / 4)) : HOUR)
  const now = options.now ?? Date.now
  let ready: Promise<void> | undefined
  // When the segment being written began (its first line's time), once known.
  let began: number | undefined
  let last = 0
  const prepare = async (): Promise<void> => {
    await mkdir(dirname(abs), { recursive: true })
    await writeFile(writerFile(abs), `${process.pid}\n${hostname()}\n`)
    const first = await firstLine(abs)
    if (first !== undefined) began = Math.min(lineTime(first), now())
  }
  const write = async (e: RunEvent): Promise<void> => {
    ready ??= prepare()
    await ready
    const t = now()
    if (began !== undefined && t - began >= segmentMs) {
      // Numbers only rise, even past segments dropped meanwhile: a name never comes back with new lines.
      last = Math.max(last, closedSegments(abs).at(-1)?.n ?? 0) + 1
      const n = last
      await rename(abs, `${abs}.${n}`).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
      began = undefined
      if (maxAgeMs !== undefined) await dropOld(abs, t - maxAgeMs, options.onDrop)
    }
    await appendFile(abs, JSON.stringify(e) + '\n')
    began ??= t
  }
  return {
    describe: abs,
    send(e) {
      const done = (queues.get(abs) ?? Promise.resolve()).then(() => write(e))
      const settled = done.catch(() => {})
      queues.set(abs, settled)
      void settled.then(() => {
        if (queues.get(abs) === settled) queues.delete(abs)
      })
      return done
    },
  }
}

const HOUR = 3_600_000

/** Removes closed segments, oldest first, while their newest line is older than `cutoff`. */
async function dropOld(abs: string, cutoff: number, onDrop: FileTransportOptions['onDrop']): Promise<void> {
  for (const s of closedSegments(abs)) {
    if (newestTime(s.path) >= cutoff) break
    const bytes = (await stat(s.path).catch(() => undefined))?.size ?? 0
    onDrop?.({ path: s.path, bytes, cutoff })
    await rm(s.path, { force: true })
  }
}

async function firstLine(abs: string): Promise<string | undefined> {
  const f = await open(abs, 'r').catch(() => undefined)
  if (f === undefined) return undefined
  try {
    const buf = Buffer.alloc(65_536)
    const { bytesRead } = await f.read(buf, 0, buf.length, 0)
    const text = buf.subarray(0, bytesRead).toString('utf8')
    const line = text.split('\n')[0]
    return line === undefined || line === '' ? undefined : line
  } finally {
    await f.close()
  }
}

/**
 * Posts each event to a Marquez-compatible endpoint: `http://host:5000` posts to `/api/v1/lineage`; a URL
 * with a path is used as it is. An answer other than 2xx rejects.
 */
export function httpTransport(url: string, options: { headers?: Record<string, string>; timeoutMs?: number } = {}): LineageTransport {
  const u = new URL(url)
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/api/v1/lineage'
  const shown = `${u.protocol}//${u.host}${u.pathname}`
  return {
    describe: shown,
    async send(e) {
      const res = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', ...options.headers }, body: JSON.stringify(e), signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) })
      await res.arrayBuffer()
      if (!res.ok) throw new Error(`lineage endpoint ${shown} answered ${res.status}`)
    },
  }
}

/** Writes each event as one JSON line to a stream (stderr by default: stdout carries the console sink). */
export function consoleTransport(out: { write(s: string): unknown } = process.stderr): LineageTransport {
  return {
    describe: 'console',
    async send(e) {
      out.write(JSON.stringify(e) + '\n')
    },
  }
}

/**
 * A transport from a target as `sluice run --lineage` takes it: `console`, an `http(s)://` URL, or a file path
 * (NDJSON), kept by `file` (see `fileTransport`).
 * @example lineageTransport('lineage/events.ndjson') // a file transport; also an http(s) URL or 'console'
 */
export function transportFor(target: string | LineageTransport, file: FileTransportOptions = {}): LineageTransport {
  if (typeof target !== 'string') return target
  if (target === '') throw userError('SLUICE_BAD_OPTION', 'lineage target is empty', { hint: "use a file path, an http:// URL or 'console'" })
  if (target === 'console') return consoleTransport()
  if (/^https?:\/\//i.test(target)) {
    try {
      return httpTransport(target)
    } catch {
      throw userError('SLUICE_BAD_OPTION', 'lineage target is not a valid URL', { hint: 'e.g. http://127.0.0.1:5000' })
    }
  }
  return fileTransport(target, file)
}
