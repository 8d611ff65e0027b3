import { serve } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { JobHandle } from '../runtime/job/types.ts'
import { controlPlane } from './app.ts'
import type { GraphStep } from './graph.ts'
import type { JobInfo } from './job-info.ts'
import { AuditLog } from './audit.ts'
import { TokenStore } from './tokens.ts'
import type { Catalog } from '../catalog/catalog.ts'
import type { TokenVault } from '../privacy/vault/token-vault.ts'
import type { ServedWorkflows } from './workflows.ts'
import { errorMessage } from '../core/errors.ts'
import type { Duration } from '../core/duration.ts'
import { SchemaRegistry } from '../contracts/registry/registry.ts'
import { retentionLoop, type RetentionLoopOptions } from '../retention/periodic.ts'
import type { ResolvedPolicy } from '../retention/policy.ts'

export interface ServeOptions {
  jobs: ReadonlyMap<string, JobHandle>
  /** Each job's steps and edges (see `graphOf`). */
  graphs?: ReadonlyMap<string, readonly GraphStep[]>
  /** Each job's facts from its pipeline (see `jobInfoOf`): graph, objectives, dead letters, personal fields. */
  infos?: ReadonlyMap<string, JobInfo>
  /** Prometheus that runs the rules of `sluice slo rules`, for SLO status (default: measured by the server). */
  prometheusUrl?: string
  /** Workflows shown under /api/workflows and in the dashboard, read from their run store. */
  workflows?: ServedWorkflows
  /**
   * A schema registry (folder or URL) in which the served pipelines' contracts are looked up. A folder's
   * registry is also served under `/registry` with the Confluent Schema Registry API (see `registryRoutes`).
   */
  registry?: string
  /** The catalog served under /api/catalog/ (and shown in the dashboard's lineage view). */
  catalog?: Catalog
  /** Each job's checkpoint folder (as given to `start`): the API shows a checkpoint's manifest while it is kept. */
  checkpointDirs?: ReadonlyMap<string, string>
  /** A token vault: admins may detokenize its tokens through the API (each call audited). */
  vault?: TokenVault
  /** Folder of the server's state: tokens.json, the audit log (log/), savepoints and redriven files asked through the API. */
  stateDir: string
  /**
   * A retention policy applied while the server runs: a pass at start, then every `everyMs`, each deletion
   * logged to `logFile` (see `retentionLoop`). Check it first with `refuseUnsafeCheckpoints` against the
   * served jobs' checkpoint folders. A failed pass is reported to `onError` (default: stderr) and the next one runs.
   */
  retention?: { policy: ResolvedPolicy } & Omit<RetentionLoopOptions, 'signal'>
  /** How long the audit log keeps its entries (default: for ever); enforced while the server runs. */
  auditRetention?: Duration
  /** Default 0: any free port. */
  port?: number
  /** Default 127.0.0.1: the API is reachable from this machine only. */
  host?: string
}

/** The folders a control plane keeps under its state folder. */
export function serverPaths(stateDir: string): { tokens: string; audit: string; savepoints: string; redrive: string } {
  return { tokens: stateDir, audit: join(stateDir, 'log'), savepoints: join(stateDir, 'savepoints'), redrive: join(stateDir, 'redrive') }
}

/**
 * Serves the control plane for `jobs` over HTTP, on loopback unless `host` says otherwise.
 * @example
 * const server = await serveControlPlane({ jobs: new Map([['clicks', job]]), stateDir: '.sluice/server', port: 8080 })
 * console.log(server.url) // http://127.0.0.1:8080
 * await server.close()
 */
export async function serveControlPlane(opts: ServeOptions): Promise<{ url: string; tokens: TokenStore; close: () => Promise<void> }> {
  const paths = serverPaths(opts.stateDir)
  const tokens = await TokenStore.open(paths.tokens)
  const audit = await AuditLog.open(paths.audit, opts.auditRetention !== undefined ? { maxAge: opts.auditRetention } : {})
  const app = controlPlane({
    jobs: opts.jobs,
    ...(opts.graphs !== undefined ? { graphs: opts.graphs } : {}),
    ...(opts.infos !== undefined ? { infos: opts.infos } : {}),
    ...(opts.prometheusUrl !== undefined ? { prometheusUrl: opts.prometheusUrl } : {}),
    ...(opts.catalog !== undefined ? { catalog: opts.catalog } : {}),
    ...(opts.vault !== undefined ? { vault: opts.vault } : {}),
    ...(opts.registry !== undefined ? { registry: opts.registry } : {}),
    ...(opts.registry !== undefined && !/^https?:\/\//.test(opts.registry) ? { servedRegistry: await SchemaRegistry.open(opts.registry) } : {}),
    ...(opts.workflows !== undefined ? { workflows: opts.workflows } : {}),
    ...(opts.checkpointDirs !== undefined ? { checkpointDirs: opts.checkpointDirs } : {}),
    tokens,
    audit,
    savepointDir: paths.savepoints,
    redriveDir: paths.redrive,
    served: { tokens: tokens.file, audit: paths.audit, savepoints: paths.savepoints, redrive: paths.redrive, address: () => address },
  })
  let address: { host: string; port: number } | undefined
  const host = opts.host ?? '127.0.0.1'
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: opts.port ?? 0 }, (info: AddressInfo) => resolve({ server: s, port: info.port }))
    s.once('error', reject)
  })
  address = { host, port }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  const stopRetention = new AbortController()
  const r = opts.retention
  const retention = r === undefined ? Promise.resolve(0) : retentionLoop(r.policy, { ...r, signal: stopRetention.signal, onError: r.onError ?? ((e, pass) => process.stderr.write(`retention pass ${pass} failed: ${errorMessage(e)}\n`)) }).catch((e: unknown) => {
    process.stderr.write(`retention stopped: ${errorMessage(e)}\n`)
    return 0
  })
  const close = async () => {
    // Answers under way (a savepoint with stop ends the job, then the server) get a moment to go out;
    // live streams stay open until their clients go, so they are cut after it.
    const s = server as unknown as { closeAllConnections?: () => void; closeIdleConnections?: () => void }
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    s.closeIdleConnections?.()
    const cut = setTimeout(() => s.closeAllConnections?.(), 1000)
    await closed
    clearTimeout(cut)
    stopRetention.abort()
    await retention
    await audit.close()
  }
  return { url, tokens, close }
}
