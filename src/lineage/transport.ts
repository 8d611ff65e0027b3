import { appendFile, mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { userError } from '../core/errors.ts'
import type { RunEvent } from './openlineage.ts'

/**
 * Where lineage events go. `send` resolves once the event is written or accepted; a failure rejects and the
 * job goes on.
 * @example const t: LineageTransport = { describe: 'memory', send: async (e) => { events.push(e) } }
 */
export interface LineageTransport {
  /** What it is, for messages: a file path, a URL (without credentials), 'console'. */
  readonly describe: string
  send(event: RunEvent): Promise<void>
}

/** Appends each event as one JSON line to a file (created with its folder). */
export function fileTransport(path: string): LineageTransport {
  const abs = resolve(path)
  let made: Promise<unknown> | undefined
  return {
    describe: abs,
    async send(e) {
      made ??= mkdir(dirname(abs), { recursive: true })
      await made
      await appendFile(abs, JSON.stringify(e) + '\n')
    },
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
 * (NDJSON).
 * @example transportFor('lineage/events.ndjson') // a file transport
 */
export function transportFor(target: string | LineageTransport): LineageTransport {
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
  return fileTransport(target)
}
