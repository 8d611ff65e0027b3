import { z } from 'zod'
import type { Role } from './roles.ts'

/** A route of the API, declared once: the OpenAPI document, validation and the role check come from it. */
export interface RouteSpec {
  method: 'get' | 'post'
  /** Hono path, e.g. '/api/jobs/:job'. */
  path: string
  role: Role
  summary: string
  body?: z.ZodType
  response: z.ZodType
  /** Served as text/event-stream. */
  sse?: boolean
}

const name = z.string().regex(/^[\w.-]{1,128}$/)
export const JobSummary = z.object({ name: z.string(), status: z.string(), since: z.number() })
export const JobDetail = JobSummary.extend({ metrics: z.record(z.string(), z.unknown()) })
export const JobGraph = JobSummary.extend({
  steps: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      inputs: z.array(z.object({ from: z.string(), tag: z.string().optional() })),
      recordsIn: z.number(),
      recordsOut: z.number(),
      inPerSecond: z.number().nullable(),
      outPerSecond: z.number().nullable(),
      watermark: z.number().nullable(),
      inputLagMs: z.number().nullable(),
      backpressureMs: z.number(),
      late: z.number(),
      errors: z.number(),
    }),
  ),
})
export const Checkpoint = z.object({ id: z.number(), bytes: z.number().optional() }).loose()
export const SavepointBody = z.strictObject({ name, stop: z.boolean().optional() })
export const TokenBody = z.strictObject({ role: z.enum(['viewer', 'operator', 'admin']) })
export const AuditEntry = z.object({ at: z.number(), who: z.string().nullable(), role: z.string().nullable(), method: z.string(), path: z.string(), status: z.number(), outcome: z.string() })
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) })

export const routes: readonly RouteSpec[] = [
  { method: 'get', path: '/api/whoami', role: 'viewer', summary: "the token's id and role", response: z.object({ id: z.string(), role: z.string() }) },
  { method: 'get', path: '/api/jobs', role: 'viewer', summary: 'every job with its status', response: z.array(JobSummary) },
  { method: 'get', path: '/api/jobs/:job', role: 'viewer', summary: "a job's status and metrics snapshot", response: JobDetail },
  { method: 'get', path: '/api/jobs/:job/metrics', role: 'viewer', summary: "a job's metrics snapshot", response: z.record(z.string(), z.unknown()) },
  { method: 'get', path: '/api/jobs/:job/graph', role: 'viewer', summary: 'the job graph with per-step rates (records/s since the previous call), watermarks, lag and backpressure', response: JobGraph },
  { method: 'get', path: '/api/jobs/:job/checkpoints', role: 'viewer', summary: 'checkpoints and savepoints completed or failed since the server started', response: z.array(z.record(z.string(), z.unknown())) },
  { method: 'get', path: '/api/jobs/:job/stream', role: 'viewer', summary: 'live metrics snapshots and job events (Server-Sent Events)', response: z.string(), sse: true },
  { method: 'post', path: '/api/jobs/:job/checkpoint', role: 'operator', summary: 'take a checkpoint now', response: Checkpoint },
  { method: 'post', path: '/api/jobs/:job/savepoint', role: 'operator', summary: "take a savepoint named `name` in the server's savepoint folder; with stop, then stop", body: SavepointBody, response: Checkpoint },
  { method: 'post', path: '/api/jobs/:job/stop', role: 'operator', summary: 'stop gracefully (a last checkpoint, sinks commit)', response: z.record(z.string(), z.unknown()) },
  { method: 'get', path: '/api/audit', role: 'admin', summary: 'the audit log, oldest first', response: z.array(AuditEntry) },
  { method: 'get', path: '/api/tokens', role: 'admin', summary: 'tokens (ids and roles, never the tokens)', response: z.array(z.object({ id: z.string(), role: z.string(), created: z.number() })) },
  { method: 'post', path: '/api/tokens', role: 'admin', summary: 'create a token (shown once)', body: TokenBody, response: z.object({ id: z.string(), token: z.string(), role: z.string() }) },
]

/**
 * The OpenAPI 3.1 document of the routes.
 * @example const doc = openApiDocument(); doc.paths['/api/jobs'].get.summary
 */
export function openApiDocument(): Record<string, unknown> & { paths: Record<string, Record<string, unknown>> } {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const p = r.path.replace(/:(\w+)/g, '{$1}')
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
    const err = { content: { 'application/json': { schema: z.toJSONSchema(ErrorBody) } } }
    paths[p] ??= {}
    paths[p][r.method] = {
      summary: r.summary,
      'x-role': r.role,
      security: [{ bearer: [] }],
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(r.body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body) } } } } : {}),
      responses: {
        200: r.sse ? { description: 'event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } : { description: 'ok', content: { 'application/json': { schema: z.toJSONSchema(r.response, { unrepresentable: 'any' }) } } },
        400: { description: 'invalid request', ...err },
        401: { description: 'no token or an unknown one', ...err },
        403: { description: 'the role may not do this', ...err },
        404: { description: 'no such job', ...err },
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Sluice control plane', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  }
}
