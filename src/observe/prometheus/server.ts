import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SluiceError } from '../../core/errors.ts'
import type { MetricsSnapshot } from '../metrics/registry.ts'
import { PrometheusExposition, type ExpositionOptions } from './exposition.ts'
import { JobHealth } from './health.ts'

/**
 * Where `serveMetrics` listens and what it reads: the port, the address, the job's snapshots, and what the
 * registry does not know (dead letters, declared objectives).
 * @example serveMetrics({ port: 9464, snapshot: () => job.metrics(), deadLetters: true })
 */
export interface MetricsServerOptions extends ExpositionOptions {
  /** TCP port; 0 picks a free one (see `port` of the result). */
  port: number
  /** Address to listen on. Default 127.0.0.1 (loopback): give '0.0.0.0' in a container that is scraped from outside. */
  host?: string
  /** The job's live figures, e.g. `() => job.metrics()` or `() => registry.snapshot()`. */
  snapshot: () => MetricsSnapshot
  /** `/readyz` fails once more checkpoints than this failed in a row. Default 3. */
  maxCheckpointFailures?: number
}

/**
 * A running metrics server.
 * @example
 * const server: MetricsServer = await serveMetrics({ port: 0, snapshot: () => job.metrics() })
 * console.log(`${server.url}/metrics`); await server.close()
 */
export interface MetricsServer {
  readonly port: number
  /** e.g. `http://127.0.0.1:9464`. */
  readonly url: string
  close(): Promise<void>
}

/**
 * Serves a job's metrics and probes over HTTP: `GET /metrics` (Prometheus text format), `/healthz` (alive) and
 * `/readyz` (running, checkpoints not failing), each answering 200 or 503 with a short text body.
 * @example
 * const server = await serveMetrics({ port: 9464, snapshot: () => job.metrics() })
 * // curl http://127.0.0.1:9464/metrics
 * await server.close()
 */
export async function serveMetrics(opts: MetricsServerOptions): Promise<MetricsServer> {
  const exposition = new PrometheusExposition(opts)
  const health = new JobHealth(opts.maxCheckpointFailures !== undefined ? { maxCheckpointFailures: opts.maxCheckpointFailures } : {})
  const host = opts.host ?? '127.0.0.1'
  const server = createServer((req, res) => {
    handle(req, res, opts.snapshot, exposition, health).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('internal error\n')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new SluiceError('SLUICE_METRICS_PORT_UNAVAILABLE', `the metrics server cannot listen on ${host}:${opts.port} (${e.code ?? e.message})`, {
          domain: 'user',
          hint: 'choose another --metrics-port, or stop what uses this one',
          cause: e,
        }),
      ),
    )
    server.listen(opts.port, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, snapshot: () => MetricsSnapshot, exposition: PrometheusExposition, health: JobHealth): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed\n')
  if (path === '/metrics') {
    const body = await exposition.render(snapshot())
    res.writeHead(200, { 'content-type': exposition.contentType })
    res.end(req.method === 'HEAD' ? undefined : body)
    return
  }
  if (path === '/healthz' || path === '/readyz') {
    const r = path === '/healthz' ? health.alive(snapshot()) : health.ready(snapshot())
    return text(res, r.ok ? 200 : 503, r.ok ? 'ok\n' : `${r.reasons.join('\n')}\n`)
  }
  text(res, 404, 'not found: try /metrics, /healthz or /readyz\n')
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
  res.end(body)
}
