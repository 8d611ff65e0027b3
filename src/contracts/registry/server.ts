import { serve, type ServerType } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { registryApp } from './http.ts'
import { SchemaRegistry } from './registry.ts'

/** A registry served over HTTP. */
export interface RegistryServer {
  readonly registry: SchemaRegistry
  /** e.g. `http://127.0.0.1:8081` */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/**
 * Serves the registry kept in `dir` (memory without one) on `host:port` (port 0 picks a free one; host
 * default 127.0.0.1).
 * @example const srv = await startRegistry({ dir: 'data/registry', port: 8081 }); console.log(srv.url)
 */
export async function startRegistry(options: { dir?: string; port?: number; host?: string } = {}): Promise<RegistryServer> {
  const registry = await SchemaRegistry.open(options.dir)
  const host = options.host ?? '127.0.0.1'
  const app = registryApp(registry)
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8081, hostname: host }, () => resolve(s))
    s.once('error', reject)
  })
  const port = (server.address() as AddressInfo).port
  return {
    registry,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  }
}
