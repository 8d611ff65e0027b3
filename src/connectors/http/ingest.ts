import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { TRACEPARENT_HEADER, traceparentOf } from '../../observe/trace/context.ts'
import { timingSafeEqual } from 'node:crypto'
import type { Log } from '../../log/index.ts'

/** What the ingest endpoint needs to know: where records go, and when to refuse them. */
export interface IngestConfig {
  host: string
  port: number
  path: string
  /** Bearer token every request must carry; undefined: no auth. */
  token: string | undefined
  maxBodyBytes: number
  /** Records accepted and not yet read by the pipeline beyond which requests get 429. */
  maxLag: number
  log: Log
  topic: string
  /** Records accepted and not yet read by the pipeline. */
  lag(): number
}

/** What the endpoint counted, for the source's metrics. */
export interface IngestStats {
  requests: number
  accepted: number
  refused: number
  bytes: number
}

/**
 * The HTTP endpoint of `source.http`: POSTed JSON (an object or an array of them) or NDJSON is parsed whole,
 * appended to the embedded log topic (fsynced), and only then answered 200 `{ "accepted": n }`. A body that
 * does not parse is refused whole (400), so a request is stored entirely or not at all.
 */
export class IngestServer {
  private readonly c: IngestConfig
  private server: Server | undefined
  readonly stats: IngestStats = { requests: 0, accepted: 0, refused: 0, bytes: 0 }

  constructor(c: IngestConfig) {
    this.c = c
  }

  /** Listens; resolves with the port (the one chosen by the system for port 0). */
  listen(): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res))
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.c.port, this.c.host, () => {
        server.off('error', reject)
        const a = server.address()
        resolve(typeof a === 'object' && a !== null ? a.port : this.c.port)
      })
    })
  }

  close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server === undefined) return Promise.resolve()
    return new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== this.c.path) return this.answer(res, 404, { error: `POST to ${this.c.path}` })
    if (req.method !== 'POST') return this.answer(res, 405, { error: 'only POST' }, { allow: 'POST' })
    if (!this.authorized(req.headers.authorization)) return this.answer(res, 401, { error: 'a valid bearer token is required' }, { 'www-authenticate': 'Bearer' })
    if (this.c.lag() >= this.c.maxLag) return this.answer(res, 429, { error: 'the pipeline is behind; try again later' }, { 'retry-after': '1' })
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > this.c.maxBodyBytes) return this.answer(res, 413, { error: `bodies are limited to ${this.c.maxBodyBytes} bytes` }, { connection: 'close' })
    let body: Buffer
    try {
      body = await readBody(req, this.c.maxBodyBytes)
    } catch {
      return this.answer(res, 413, { error: `bodies are limited to ${this.c.maxBodyBytes} bytes` }, { connection: 'close' })
    }
    this.stats.bytes += body.byteLength
    const values = parseBody(body.toString('utf8'), String(req.headers['content-type'] ?? ''))
    if (typeof values === 'string') return this.answer(res, 400, { error: values })
    if (values.length === 0) return this.answer(res, 200, { accepted: 0 })
    try {
      // A request sent in a trace: its records carry the context into the pipeline.
      const trace = traceparentOf(req.headers[TRACEPARENT_HEADER])
      await this.c.log.append(this.c.topic, 0, values.map((value) => (trace === undefined ? { value } : { value, headers: { [TRACEPARENT_HEADER]: trace } })))
    } catch {
      // Not stored: the client must send it again.
      return this.answer(res, 503, { error: 'the records could not be stored; send them again' }, { 'retry-after': '1' })
    }
    this.stats.accepted += values.length
    this.answer(res, 200, { accepted: values.length })
  }

  private authorized(header: string | undefined): boolean {
    if (this.c.token === undefined) return true
    const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '')
    const want = Buffer.from(this.c.token)
    return given.byteLength === want.byteLength && timingSafeEqual(given, want)
  }

  private answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (status !== 200) this.stats.refused++
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.byteLength
      if (size > limit) {
        req.destroy()
        reject(new Error('too large'))
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/**
 * The records of a body as JSON texts, or why it is refused. NDJSON (`application/x-ndjson`, `application/jsonl`,
 * or a body of several lines that each parse) gives one record per line; JSON gives one record for an object and
 * one per element for an array. Nothing of the body is echoed back (it may hold personal data).
 */
export function parseBody(text: string, contentType: string): string[] | string {
  const ndjson = /ndjson|jsonl|json-seq/i.test(contentType)
  if (!ndjson) {
    try {
      const v = JSON.parse(text) as unknown
      return Array.isArray(v) ? v.map((x) => JSON.stringify(x)) : [JSON.stringify(v)]
    } catch {
      if (!text.includes('\n')) return 'the body is not JSON'
    }
  }
  const out: string[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '') continue
    try {
      out.push(JSON.stringify(JSON.parse(line)))
    } catch {
      return `line ${i + 1} of the body is not JSON; nothing was stored`
    }
  }
  return out
}
