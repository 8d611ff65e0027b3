import type { Context } from 'hono'
import { z } from 'zod'
import type { Role } from './roles.ts'
import { intervalMs } from './settings.ts'

/** A route of the API, declared once: the OpenAPI document, validation and the role check come from it. */
export interface RouteSpec {
  method: 'get' | 'post' | 'patch' | 'delete'
  /** Hono path, e.g. '/api/jobs/:job'. */
  path: string
  role: Role
  summary: string
  body?: z.ZodType
  /** Query parameters: validated before the handler runs (which reads them with `queryOf`), listed in the OpenAPI document. */
  query?: z.ZodObject
  response: z.ZodType
  /** Served as text/event-stream. */
  sse?: boolean
  /** Served as text/plain. */
  text?: boolean
}

const name = z.string().regex(/^[\w.-]{1,128}$/)
/** An integer query parameter within [min, max] (given as its decimal digits). */
const int = (min: number, max: number) => z.string().regex(/^-?\d{1,16}$/, 'an integer').transform(Number).pipe(z.number().int().min(min).max(max))
const text = z.string().max(1024)
export const ExplainQuery = z.object({ step: z.string().min(1).max(256), key: text.default(''), time: int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).optional() })
export const LettersQuery = z.object({ from: int(0, Number.MAX_SAFE_INTEGER).default(0), limit: int(1, 1000).default(100) })
export const AuditQuery = z.object({ from: int(0, Number.MAX_SAFE_INTEGER).default(0), limit: int(1, 10_000).default(1000) })
export const DatasetsQuery = z.object({ q: text.optional(), tag: text.optional(), field: text.optional() })
export const WorkflowQuery = z.object({ limit: int(1, 1000).default(48) })
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
const ManifestSummary = z.object({
  kind: z.enum(['checkpoint', 'savepoint']),
  createdAt: z.string(),
  parallelism: z.number(),
  keyGroups: z.number(),
  folder: z.string(),
  steps: z.array(z.object({ step: z.string(), kind: z.string(), keyed: z.boolean(), bytes: z.number(), files: z.number(), delta: z.boolean() })),
  sources: z.array(z.object({ step: z.string(), kind: z.string(), partitions: z.number(), ended: z.number(), recordsIn: z.number() })),
  sinks: z.array(z.object({ step: z.string(), subtask: z.number().optional(), pending: z.number() })),
})
export const CheckpointDetail = z.object({ id: z.number(), at: z.number(), ok: z.boolean(), savepoint: z.string().optional(), manifest: ManifestSummary.nullable(), why: z.string().optional() }).loose()
export const SavepointBody = z.strictObject({ name, stop: z.boolean().optional() })
export const TokenBody = z.strictObject({ role: z.enum(['viewer', 'operator', 'admin']) })
export const DetokenizeBody = z.strictObject({ tokens: z.array(z.string().min(1)).min(1).max(1000) })
const SettingChange = z.object({ setting: z.string(), from: z.unknown(), to: z.unknown() })
export const AuditEntry = z.object({ at: z.number(), who: z.string().nullable(), role: z.string().nullable(), method: z.string(), path: z.string(), status: z.number(), outcome: z.string(), changes: z.array(SettingChange).optional() })
const RecordsShown = z.enum(['masked', 'operators'])
const Interval = z.string().max(32).refine((s) => intervalMs(s) !== undefined, { message: "a duration such as '500ms', '30s', '5m' or '1h30m', at least 100ms, or '0' for checkpoints only at the end of input and on stop" })
export const SettingsBody = z.strictObject({ records: RecordsShown.optional(), jobs: z.record(z.string().max(128), z.strictObject({ checkpointInterval: Interval })).optional() })
const MutableSettings = z.object({ records: RecordsShown, jobs: z.record(z.string(), z.object({ checkpointInterval: z.string() })) })
export const Settings = z.object({
  server: z.object({ host: z.string(), port: z.number() }).nullable(),
  files: z.object({ tokens: z.string(), audit: z.string(), savepoints: z.string(), redrive: z.string() }).nullable(),
  jobs: z.array(z.object({ name: z.string(), status: z.string(), checkpointDir: z.string().nullable(), checkpointInterval: z.string().nullable() })),
  settings: MutableSettings,
})
export const RedriveBody = z
  .strictObject({ topic: name.optional(), file: name.optional(), step: z.string().min(1).max(256).optional(), from: z.number().int().nonnegative().optional() })
  .refine((b) => (b.topic === undefined) !== (b.file === undefined), { message: 'give exactly one of topic (a topic of the same log) and file (a file name in the server\'s redrive folder)' })
const Letter = z.object({ offset: z.number(), visibility: z.string(), step: z.string(), reason: z.string(), error: z.object({ name: z.string(), message: z.string(), code: z.string().optional() }), attempts: z.number(), time: z.number(), record: z.unknown(), recordFormat: z.string() }).loose()
const LateSample = z.object({ at: z.number(), step: z.string().optional(), reason: z.string().optional(), time: z.number().optional(), watermark: z.number().nullable().optional(), record: z.unknown() }).loose()
export const SloReport = z.object({ slo: z.string(), objective: z.number(), sli: z.number().nullable(), budgetLeft: z.number().nullable(), state: z.enum(['met', 'breached', 'unknown']), source: z.string(), alerts: z.array(z.string()) })
const Partition = z.object({ partition: z.number(), watermark: z.number().nullable(), idle: z.boolean(), ended: z.boolean(), silentMs: z.number(), stuck: z.boolean(), holding: z.boolean() })
const CatalogField = z.object({ name: z.string(), type: z.string().optional(), personal: z.boolean(), masked: z.boolean().optional() })
export const CatalogDataset = z.object({ key: z.string(), namespace: z.string(), name: z.string(), owner: z.string().optional(), fields: z.array(CatalogField), personal: z.array(z.string()), masked: z.array(z.string()).optional(), tags: z.array(z.string()), writers: z.array(z.string()), readers: z.array(z.string()) }).loose()
export const CatalogJob = z.object({ key: z.string(), namespace: z.string(), name: z.string(), inputs: z.array(z.string()), outputs: z.array(z.string()), runs: z.number() }).loose()
export const CatalogGraph = z.object({ nodes: z.array(z.object({ id: z.string(), kind: z.enum(['dataset', 'job']), label: z.string(), personal: z.boolean().optional(), masked: z.boolean().optional(), state: z.string().optional() })), edges: z.array(z.object({ from: z.string(), to: z.string() })) })
const RegistryState = z.union([
  z.object({ status: z.literal('registered'), version: z.number(), id: z.number() }),
  z.object({ status: z.enum(['not-registered', 'incompatible']), level: z.string(), differences: z.array(z.string()) }),
  z.object({ status: z.literal('unreachable'), error: z.string() }),
])
export const SchemaInfo = z.object({ step: z.string(), contract: z.string(), subject: z.string(), version: z.number(), format: z.string(), owner: z.string().optional(), personal: z.array(z.string()), fields: z.array(z.object({ name: z.string(), type: z.string(), personal: z.boolean() }).loose()), schemaType: z.string(), schema: z.string(), registry: RegistryState.optional() })
const QualityResult = z.object({ step: z.string(), expectation: z.string(), kind: z.string(), field: z.string().nullable(), severity: z.string(), windowStart: z.number().nullable(), windowEnd: z.number().nullable(), passed: z.boolean(), checked: z.number(), failed: z.number(), observed: z.record(z.string(), z.number().nullable()) })
export const QualitySummary = z.object({ step: z.string(), expectation: z.string(), kind: z.string(), field: z.string().nullable(), severity: z.string(), windows: z.number(), windowsFailed: z.number(), checked: z.number(), failed: z.number(), latest: QualityResult })
const RunCounts = z.record(z.string(), z.number())
const WorkflowTask = z.object({ name: z.string(), kind: z.string(), dependsOn: z.array(z.string()) })
export const WorkflowSummary = z.object({ name: z.string(), tasks: z.array(WorkflowTask), partitions: z.string().optional(), schedule: z.string().optional(), runs: RunCounts })
export const WorkflowDetail = z.object({
  name: z.string(),
  partitions: z.array(z.string()),
  schedule: z.string().optional(),
  tasks: z.array(WorkflowTask.extend({ runs: RunCounts })),
  runs: z.array(z.object({ task: z.string(), partition: z.string(), status: z.string(), attempts: z.number(), startedAt: z.number().nullable(), endedAt: z.number().nullable(), error: z.string().nullable() })),
})
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) })

export const routes: readonly RouteSpec[] = [
  { method: 'get', path: '/api/whoami', role: 'viewer', summary: "the token's id and role", response: z.object({ id: z.string(), role: z.string() }) },
  { method: 'get', path: '/api/jobs', role: 'viewer', summary: 'every job with its status', response: z.array(JobSummary) },
  { method: 'get', path: '/api/jobs/:job', role: 'viewer', summary: "a job's status and metrics snapshot", response: JobDetail },
  { method: 'get', path: '/api/jobs/:job/metrics', role: 'viewer', summary: "a job's metrics snapshot", response: z.record(z.string(), z.unknown()) },
  { method: 'get', path: '/api/jobs/:job/graph', role: 'viewer', summary: 'the job graph with per-step rates (records/s since the previous call), watermarks, lag and backpressure', response: JobGraph },
  { method: 'get', path: '/api/jobs/:job/checkpoints', role: 'viewer', summary: 'checkpoints and savepoints completed or failed since the server started', response: z.array(z.record(z.string(), z.unknown())) },
  { method: 'get', path: '/api/jobs/:job/checkpoints/:id', role: 'viewer', summary: "one checkpoint or savepoint of the history: its figures and, while its folder is kept, its manifest summed up (state bytes per step, source partitions, sink commits pending)", response: CheckpointDetail },
  { method: 'get', path: '/api/jobs/:job/stream', role: 'viewer', summary: 'live metrics snapshots and job events (Server-Sent Events)', response: z.string(), sse: true },
  { method: 'post', path: '/api/jobs/:job/checkpoint', role: 'operator', summary: 'take a checkpoint now', response: Checkpoint },
  { method: 'post', path: '/api/jobs/:job/savepoint', role: 'operator', summary: "take a savepoint named `name` in the server's savepoint folder; with stop, then stop", body: SavepointBody, response: Checkpoint },
  { method: 'post', path: '/api/jobs/:job/stop', role: 'operator', summary: 'stop gracefully (a last checkpoint, sinks commit)', response: z.record(z.string(), z.unknown()) },
  { method: 'get', path: '/api/jobs/:job/errors', role: 'viewer', summary: 'recent errors of the job (newest last, at most 50) and its restarts', response: z.object({ restarts: z.number(), errors: z.array(z.object({ at: z.number(), code: z.string(), message: z.string() })) }) },
  { method: 'get', path: '/api/jobs/:job/slo', role: 'viewer', summary: "the job's SLOs: SLI, error budget left and state (measured since the server started, or from Prometheus with --prometheus)", response: z.array(SloReport) },
  { method: 'get', path: '/api/jobs/:job/watermarks', role: 'viewer', summary: 'watermarks per source partition (idle, stuck and holding ones marked) and per step with its inputs', response: z.object({ sources: z.array(z.object({ step: z.string(), partitions: z.array(Partition) })), steps: z.array(z.object({ step: z.string(), watermark: z.number().nullable(), inputs: z.array(z.object({ from: z.string(), watermark: z.number().nullable(), idle: z.boolean() })) })) }) },
  { method: 'get', path: '/api/jobs/:job/explain', role: 'viewer', summary: 'why a window has (not) fired: query step, key and time (epoch ms, default now); the windows, the watermark, the inputs and partitions holding it back, the trigger', query: ExplainQuery, response: z.object({ verdict: z.string(), windows: z.array(z.record(z.string(), z.unknown())) }).loose() },
  { method: 'get', path: '/api/jobs/:job/late', role: 'viewer', summary: 'samples of late records per step with their reasons (personal fields masked)', response: z.array(z.object({ step: z.string(), seen: z.number(), samples: z.array(LateSample) })) },
  { method: 'get', path: '/api/jobs/:job/dead-letters', role: 'viewer', summary: 'dead letters from offset `from` (query), at most `limit`, with their reasons (personal fields masked)', query: LettersQuery, response: z.object({ topic: z.string(), letters: z.array(Letter), next: z.number() }) },
  { method: 'get', path: '/api/jobs/:job/dead-letters/:offset', role: 'viewer', summary: 'one dead letter', response: Letter },
  { method: 'post', path: '/api/jobs/:job/dead-letters/redrive', role: 'operator', summary: "write the visible dead letters' records to a topic of the same log or a file in the server's redrive folder (each letter once per target)", body: RedriveBody, response: z.object({ redriven: z.number(), skipped: z.number(), pending: z.number(), nextOffset: z.number(), target: z.string() }) },
  { method: 'get', path: '/api/jobs/:job/schemas', role: 'viewer', summary: "the contracts of the job's sources: subject, version, fields (personal ones marked), the schema, and its state in the registry given with --registry", response: z.array(SchemaInfo) },
  { method: 'get', path: '/api/jobs/:job/quality', role: 'viewer', summary: "the latest result of each of the job's expectations (expect steps), with the windows passed and failed and the records checked and failed so far", response: z.array(QualitySummary) },
  { method: 'get', path: '/api/catalog/datasets', role: 'viewer', summary: 'datasets of the catalog; query q (a part of the name), tag and field narrow them', query: DatasetsQuery, response: z.array(CatalogDataset) },
  { method: 'get', path: '/api/catalog/datasets/:key', role: 'viewer', summary: 'one dataset (key URL-encoded, or its name) with its fields (personal and masked ones marked), schema versions, upstream and downstream', response: CatalogDataset.extend({ upstream: z.array(z.string()), downstream: z.array(z.string()) }) },
  { method: 'get', path: '/api/catalog/jobs', role: 'viewer', summary: 'jobs of the catalog with their inputs, outputs and last run; query q (a part of the name, or of a dataset read or written) narrows them', response: z.array(CatalogJob) },
  { method: 'get', path: '/api/catalog/jobs/:key', role: 'viewer', summary: 'one job of the catalog (key URL-encoded, or its name)', response: CatalogJob },
  { method: 'get', path: '/api/catalog/graph', role: 'viewer', summary: 'the lineage graph: datasets and jobs as nodes (personal and masked datasets marked), reads and writes as edges', response: CatalogGraph },
  { method: 'get', path: '/api/workflows', role: 'viewer', summary: 'workflows of the run store given with --workflow-store: tasks, dependencies and run counts by status', response: z.array(WorkflowSummary) },
  { method: 'get', path: '/api/workflows/:workflow', role: 'viewer', summary: "a workflow's DAG with each task's run counts and its partition grid: the latest `limit` partitions (query, default 48) with each task's run", query: WorkflowQuery, response: WorkflowDetail },
  { method: 'get', path: '/metrics', role: 'viewer', summary: 'every job\'s metrics in the Prometheus text format (scrape with a viewer token)', response: z.string(), text: true },
  { method: 'get', path: '/api/audit', role: 'admin', summary: 'the audit log, oldest first: at most `limit` entries from offset `from`', query: AuditQuery, response: z.array(AuditEntry) },
  { method: 'get', path: '/api/settings', role: 'admin', summary: "the server's effective settings: where it listens and keeps its files (tokens, audit log, savepoints, redriven files), each job's checkpoint folder and interval, and the settings PATCH changes with their current values", response: Settings },
  { method: 'patch', path: '/api/settings', role: 'admin', summary: "change settings while the server runs (checked whole, then applied, and audited with each value before and after): `records` ('masked': personal fields masked for everyone, the default; 'operators': dead letters and late samples shown unmasked to operators and admins) and `jobs.<name>.checkpointInterval` (a duration such as '30s': the next checkpoint is due that long from now)", body: SettingsBody, response: z.object({ changes: z.array(SettingChange), settings: MutableSettings }) },
  { method: 'get', path: '/api/tokens', role: 'admin', summary: 'tokens (ids and roles, never the tokens)', response: z.array(z.object({ id: z.string(), role: z.string(), created: z.number() })) },
  { method: 'post', path: '/api/tokens', role: 'admin', summary: 'create a token (shown once)', body: TokenBody, response: z.object({ id: z.string(), token: z.string(), role: z.string() }) },
  { method: 'delete', path: '/api/tokens/:id', role: 'admin', summary: 'revoke a token by its id: it is refused from the next call on (the last admin token cannot be revoked)', response: z.object({ id: z.string(), revoked: z.literal(true) }) },
  { method: 'post', path: '/api/vault/detokenize', role: 'admin', summary: 'the values behind tokens of the token vault the server was given (sluice serve --vault), in the order asked; every call is in the audit log', body: DetokenizeBody, response: z.object({ values: z.array(z.unknown()) }) },
]

/**
 * The OpenAPI 3.1 document of the routes.
 * @example const doc = openApiDocument(); doc.paths['/api/jobs'].get.summary
 */
export function openApiDocument(): Record<string, unknown> & { paths: Record<string, Record<string, unknown>> } {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const p = r.path.replace(/:(\w+)/g, '{$1}')
    const params: Record<string, unknown>[] = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
    for (const [q, schema] of Object.entries(r.query?.shape ?? {})) {
      params.push({ name: q, in: 'query', required: !(schema as z.ZodType).safeParse(undefined).success, schema: z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) })
    }
    const err = { content: { 'application/json': { schema: z.toJSONSchema(ErrorBody) } } }
    paths[p] ??= {}
    paths[p][r.method] = {
      summary: r.summary,
      'x-role': r.role,
      security: [{ bearer: [] }],
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(r.body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body) } } } } : {}),
      responses: {
        200: r.sse ? { description: 'event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } : r.text ? { description: 'text', content: { 'text/plain': { schema: { type: 'string' } } } } : { description: 'ok', content: { 'application/json': { schema: z.toJSONSchema(r.response, { unrepresentable: 'any' }) } } },
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

/**
 * The query of a route that declares one, as validated (defaults applied) before its handler ran.
 * @example const { from, limit } = queryOf(c, LettersQuery)
 */
export function queryOf<S extends z.ZodObject>(c: Context, _schema: S): z.infer<S> {
  return c.get('query') as z.infer<S>
}
