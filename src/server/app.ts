import { Hono, type Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import { bodyLimit } from 'hono/body-limit'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SluiceError, errorMessage } from '../core/errors.ts'
import type { JobEvent, JobHandle } from '../runtime/job/types.ts'
import type { AuditLog } from './audit.ts'
import { allows, type Role } from './roles.ts'
import { AuditQuery, openApiDocument, queryOf, routes, type RouteSpec } from './routes.ts'
import type { z } from 'zod'
import type { TokenStore } from './tokens.ts'
import { RateTracker, type GraphStep } from './graph.ts'
import type { JobInfo } from './job-info.ts'
import { jobApi } from './job-api.ts'
import { catalogRoutes } from './catalog-api.ts'
import { schemaRoutes } from './schemas.ts'
import { workflowRoutes, type ServedWorkflows } from './workflows.ts'
import { registryRoutes } from './registry-api.ts'
import type { SchemaRegistry } from '../contracts/registry/registry.ts'
import type { Catalog } from '../catalog/catalog.ts'
import { checkpointDetail, checkpointHistory } from './checkpoints.ts'
import type { TokenVault } from '../privacy/vault/token-vault.ts'
import { ServerSettings, settingsRoutes, type ServedAt, type SettingChange } from './settings.ts'

export interface ControlPlaneOptions {
  /** The jobs served, by name. */
  jobs: ReadonlyMap<string, JobHandle>
  tokens: TokenStore
  audit: AuditLog
  /** Folder where savepoints asked through the API are written (each under its given name). */
  savepointDir: string
  /** Each job's checkpoint folder (as given to `start`), where a checkpoint's details are read while it is kept. */
  checkpointDirs?: ReadonlyMap<string, string>
  /** Each job's steps and edges (`graphOf(pipeline.nodes)`); without it the graph is the metrics' steps in order. */
  graphs?: ReadonlyMap<string, readonly GraphStep[]>
  /** Each job's facts from its pipeline (graph, objectives, dead letters, personal fields); see `jobInfoOf`. */
  infos?: ReadonlyMap<string, JobInfo>
  /** Folder where dead letters redriven to a file through the API are written (each under its given name). */
  redriveDir?: string
  /** Prometheus that runs the rules of `sluice slo rules`: SLO status comes from it instead of the server's own count. */
  prometheusUrl?: string
  /** A schema registry (folder or URL): the schemas route says where each contract stands in it. */
  registry?: string
  /** An embedded schema registry served under `/registry` with Confluent's API, behind the tokens (`registryRoutes`). */
  servedRegistry?: SchemaRegistry
  /** Workflows served under /api/workflows (their DAG and partition grid), read from their run store. */
  workflows?: ServedWorkflows
  /** The catalog served under /api/catalog/ (datasets, jobs, the lineage graph). */
  catalog?: Catalog
  /** The token vault whose tokens admins may turn back into values (`POST /api/vault/detokenize`). */
  vault?: TokenVault
  /** The settings that change while the server runs (default: records masked for everyone). */
  settings?: ServerSettings
  /** Where the server keeps its files and listens, shown by `GET /api/settings`. */
  served?: ServedAt
  /** Time between metrics snapshots on the live stream (default 1000 ms). */
  streamIntervalMs?: number
}

/** The dashboard's files (src/dashboard/, copied beside the build), read on first use: the page and its modules. */
let dashboard: { html: string; js: Map<string, string> } | undefined
function dashboardFiles(): { html: string; js: Map<string, string> } {
  if (dashboard === undefined) {
    const dir = new URL('../dashboard/', import.meta.url)
    const js = new Map<string, string>()
    for (const f of readdirSync(dir)) if (/^[a-z-]+\.js$/.test(f)) js.set(f, readFileSync(new URL(f, dir), 'utf8'))
    dashboard = { html: readFileSync(new URL('index.html', dir), 'utf8'), js }
  }
  return dashboard
}

type Vars = { Variables: { who: string | null; role: Role | null; query: unknown; changes: SettingChange[] | undefined } }

/**
 * The control plane's HTTP API as a Hono app: `/openapi.json` is public, every `/api/` route needs a bearer
 * token whose role is at least the route's; mutating and refused calls go to the audit log.
 * @example
 * const app = controlPlane({ jobs: new Map([['clicks', job]]), tokens, audit, savepointDir: 'savepoints' })
 * serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 8080 })
 */
export function controlPlane(opts: ControlPlaneOptions): Hono<Vars> {
  const app = new Hono<Vars>()
  const history = checkpointHistory(opts.jobs)
  const doc = openApiDocument()
  const settings = opts.settings ?? new ServerSettings()

  app.get('/openapi.json', (c) => c.json(doc))
  // The dashboard's files are public; what they show comes from the API with the user's token.
  const headers = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }
  app.get('/', (c) => c.body(dashboardFiles().html, 200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'" }))
  app.get('/dashboard/:file', (c) => {
    const js = dashboardFiles().js.get(c.req.param('file'))
    return js === undefined ? fail(c, 404, 'SLUICE_NOT_FOUND', 'no such file') : c.body(js, 200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' })
  })

  app.onError((e, c) => {
    // The job cannot do it in its present state (ended, or running without checkpoints): a conflict.
    if (e instanceof SluiceError && (e.code === 'SLUICE_JOB_NOT_RUNNING' || e.code === 'SLUICE_NO_CHECKPOINTS')) return fail(c, 409, e.code, e.hint !== undefined ? `${e.message} (${e.hint})` : e.message)
    if (e instanceof SluiceError && e.domain === 'user') return fail(c, 400, e.code, e.message)
    return fail(c, 500, 'SLUICE_INTERNAL', errorMessage(e))
  })
  // A write to a route that does not exist (e.g. an attempt to edit the audit log) is refused and recorded.
  app.notFound(async (c) => {
    const res = fail(c, 404, 'SLUICE_NOT_FOUND', 'no such route')
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && new URL(c.req.url).pathname.startsWith('/api/')) {
      const m = /^Bearer (\S+)$/i.exec(c.req.header('authorization') ?? '')
      const entry = m ? opts.tokens.verify(m[1]!) : undefined
      c.set('who', entry?.id ?? null)
      c.set('role', entry?.role ?? null)
      await record(opts.audit, c, 404, 'refused')
    }
    return res
  })

  // Request bodies are small JSON objects: a larger one is refused before it is read into memory. It is
  // checked after the token, so the refusal is audited like any other answer to a mutating call.
  const limit = bodyLimit({ maxSize: 64 * 1024, onError: (c) => fail(c, 413, 'SLUICE_BAD_ARGUMENT', 'the request body is over 64 KiB') })

  for (const r of routes) {
    app.on(r.method.toUpperCase(), r.path, async (c, next) => {
      const refused = authorize(c, r, opts.tokens)
      if (refused !== undefined) {
        await record(opts.audit, c, refused.status)
        return refused
      }
      if (r.query !== undefined) {
        const parsed = r.query.safeParse(c.req.query())
        if (!parsed.success) return fail(c, 400, 'SLUICE_BAD_ARGUMENT', `invalid query: ${issues(parsed.error)}`)
        c.set('query', parsed.data)
      }
      await next()
      if (r.method !== 'get') await record(opts.audit, c, c.res.status)
    }, limit)
  }

  const job = (c: Context<Vars>): JobHandle | Response => opts.jobs.get(c.req.param('job') ?? '') ?? fail(c, 404, 'SLUICE_NOT_FOUND', 'no such job')
  const body = async <T>(c: Context<Vars>, r: RouteSpec): Promise<T | Response> => {
    let raw: unknown
    try {
      raw = await c.req.json()
    } catch {
      return fail(c, 400, 'SLUICE_BAD_ARGUMENT', 'the request body is not JSON')
    }
    const parsed = r.body!.safeParse(raw)
    return parsed.success ? (parsed.data as T) : fail(c, 400, 'SLUICE_BAD_ARGUMENT', `invalid request body: ${issues(parsed.error)}`)
  }
  const spec = (method: string, path: string): RouteSpec => routes.find((r) => r.method === method && r.path === path)!

  app.get('/api/whoami', (c) => c.json({ id: c.get('who')!, role: c.get('role')! }))
  app.get('/api/jobs', (c) => c.json([...opts.jobs].map(([name, h]) => ({ name, ...h.status() }))))
  app.get('/api/jobs/:job', (c) => {
    const h = job(c)
    return h instanceof Response ? h : c.json({ name: h.pipeline, ...h.status(), metrics: h.metrics() })
  })
  app.get('/api/jobs/:job/metrics', (c) => {
    const h = job(c)
    return h instanceof Response ? h : c.json(h.metrics())
  })
  const rates = new Map<string, RateTracker>()
  app.get('/api/jobs/:job/graph', (c) => {
    const h = job(c)
    if (h instanceof Response) return h
    const name = c.req.param('job')
    let r = rates.get(name)
    if (r === undefined) rates.set(name, (r = new RateTracker()))
    return c.json({ name, ...h.status(), steps: r.graph(opts.graphs?.get(name) ?? opts.infos?.get(name)?.graph, h.metrics()) })
  })
  app.get('/api/jobs/:job/checkpoints', (c) => {
    const h = job(c)
    return h instanceof Response ? h : c.json(history.get(c.req.param('job'))!)
  })
  app.get('/api/jobs/:job/checkpoints/:id', async (c) => {
    const h = job(c)
    if (h instanceof Response) return h
    const id = Number(c.req.param('id'))
    if (!Number.isSafeInteger(id) || id < 0) return fail(c, 400, 'SLUICE_BAD_ARGUMENT', 'the checkpoint id must be a non-negative integer')
    const entry = history.get(c.req.param('job'))!.findLast((e) => e.id === id)
    if (entry === undefined) return fail(c, 404, 'SLUICE_NOT_FOUND', `no checkpoint ${id} in the history of this job (it holds those since the server started, the last 100)`)
    return c.json(await checkpointDetail(entry, opts.checkpointDirs?.get(c.req.param('job'))))
  })
  app.get('/api/jobs/:job/stream', (c) => {
    const h = job(c)
    if (h instanceof Response) return h
    return streamSSE(c, async (s) => {
      const events: JobEvent[] = []
      let wake: () => void = () => {}
      const off = h.on((e) => {
        events.push(e)
        wake()
      })
      s.onAbort(() => wake())
      try {
        while (!s.aborted && !s.closed) {
          await s.writeSSE({ event: 'metrics', data: JSON.stringify({ status: h.status(), metrics: h.metrics() }) })
          for (const e of events.splice(0)) await s.writeSSE({ event: 'job', data: JSON.stringify(e) })
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, opts.streamIntervalMs ?? 1000)
            wake = () => {
              clearTimeout(t)
              resolve()
            }
          })
        }
      } finally {
        off()
      }
    })
  })
  app.post('/api/jobs/:job/checkpoint', async (c) => {
    const h = job(c)
    return h instanceof Response ? h : c.json(await h.checkpoint())
  })
  app.post('/api/jobs/:job/savepoint', async (c) => {
    const h = job(c)
    if (h instanceof Response) return h
    const b = await body<{ name: string; stop?: boolean }>(c, spec('post', '/api/jobs/:job/savepoint'))
    if (b instanceof Response) return b
    return c.json(await h.savepoint(join(opts.savepointDir, b.name), { stop: b.stop === true }))
  })
  app.post('/api/jobs/:job/stop', async (c) => {
    const h = job(c)
    if (h instanceof Response) return h
    const s = h.status().status
    if (s !== 'running' && s !== 'starting') return fail(c, 409, 'SLUICE_JOB_NOT_RUNNING', `the job is ${s}`)
    // The stop is under way once asked; its summary comes when the job ends (see the job's status).
    void h.stop().catch(() => {})
    return c.json({ status: 'stopping' })
  })
  jobApi(app, {
    jobs: opts.jobs,
    infos: opts.infos,
    redriveDir: opts.redriveDir ?? join(opts.savepointDir, '..', 'redrive'),
    prometheusUrl: opts.prometheusUrl,
    job,
    body: (c, path) => body(c, spec('post', path)),
    fail,
    unmasked: (c) => settings.unmasked(c.get('role')),
  })
  settingsRoutes(app, { jobs: opts.jobs, settings, checkpointDirs: opts.checkpointDirs, served: opts.served, body: (c, path) => body(c, spec('patch', path)), fail })
  schemaRoutes(app, { infos: opts.infos, registry: opts.registry, job })
  catalogRoutes(app, opts.catalog, fail)
  if (opts.servedRegistry !== undefined) registryRoutes(app, opts.servedRegistry, opts.tokens, (c, status) => record(opts.audit, c as Context<Vars>, status))
  workflowRoutes(app, opts.workflows, fail)
  app.get('/api/audit', async (c) => {
    const { from, limit } = queryOf(c, AuditQuery)
    return c.json(await opts.audit.read(from, limit))
  })
  app.post('/api/vault/detokenize', async (c) => {
    if (opts.vault === undefined) return fail(c, 404, 'SLUICE_NOT_FOUND', 'this server has no token vault (sluice serve --vault DIR --keyring FILE)')
    const b = await body<{ tokens: string[] }>(c, spec('post', '/api/vault/detokenize'))
    if (b instanceof Response) return b
    const vault = opts.vault
    return c.json({ values: b.tokens.map((t) => vault.detokenize(t)) })
  })
  app.get('/api/tokens', (c) => c.json(opts.tokens.list()))
  app.delete('/api/tokens/:id', async (c) => {
    const id = c.req.param('id')
    return (await opts.tokens.revoke(id)) ? c.json({ id, revoked: true as const }) : fail(c, 404, 'SLUICE_NOT_FOUND', `no token with id '${id}'`)
  })
  app.post('/api/tokens', async (c) => {
    const b = await body<{ role: Role }>(c, spec('post', '/api/tokens'))
    return b instanceof Response ? b : c.json(await opts.tokens.create(b.role))
  })
  return app
}

function authorize(c: Context<Vars>, r: RouteSpec, tokens: TokenStore): Response | undefined {
  c.set('who', null)
  c.set('role', null)
  const h = c.req.header('authorization') ?? ''
  const m = /^Bearer (\S+)$/i.exec(h)
  const entry = m ? tokens.verify(m[1]!) : undefined
  if (entry === undefined) {
    c.header('WWW-Authenticate', 'Bearer')
    return fail(c, 401, 'SLUICE_UNAUTHORIZED', m ? 'unknown token' : 'a bearer token is required')
  }
  c.set('who', entry.id)
  c.set('role', entry.role)
  if (!allows(entry.role, r.role)) return fail(c, 403, 'SLUICE_FORBIDDEN', `this needs the role '${r.role}' (the token has '${entry.role}')`)
  return undefined
}

async function record(audit: AuditLog, c: Context<Vars>, status: number, outcome?: 'refused'): Promise<void> {
  await audit.append({
    at: Date.now(),
    who: c.get('who'),
    role: c.get('role'),
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    status,
    outcome: outcome ?? (status === 401 || status === 403 ? 'refused' : status < 400 ? 'ok' : 'failed'),
    ...(status < 400 && c.get('changes') !== undefined ? { changes: c.get('changes') } : {}),
  })
}

/** A validation error's issues, each with where it is (the field, or '(body)'). */
function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')
}

function fail(c: Context, status: 400 | 401 | 403 | 404 | 409 | 413 | 500, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status)
}
