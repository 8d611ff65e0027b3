import { join, resolve } from 'node:path'
import { parseDuration } from '../../core/duration.ts'
import { errorMessage } from '../../core/errors.ts'
import { start } from '../../runtime/run.ts'
import type { JobHandle } from '../../runtime/job/types.ts'
import { serveControlPlane, type ServeOptions } from '../../server/serve.ts'
import type { GraphStep } from '../../server/graph.ts'
import { jobInfoOf, type JobInfo } from '../../server/job-info.ts'
import type { Command, ParsedArgs } from '../command.ts'
import { paramsFlag, positiveIntFlag, UsageError } from '../command.ts'
import type { CliContext } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { loadPipeline, resolvePipelineFile } from '../load-pipeline.ts'
import { requireTypes } from '../type-check/require-types.ts'
import { Catalog } from '../../catalog/catalog.ts'
import { TokenVault } from '../../privacy/vault/token-vault.ts'
import { LocalKeyring } from '../../privacy/keys/local-keyring.ts'
import { masterKeyFrom } from '../../privacy/keys/master-key.ts'
import { transportFor, type FileTransportOptions, type LineageTransport } from '../../lineage/transport.ts'
import { logDrop } from '../../retention/apply.ts'
import { WorkflowStore } from '../../workflow/store.ts'
import { workflowShape, type ServedWorkflows } from '../../server/workflows.ts'
import { loadWorkflow } from './workflow-load.ts'
import { DEFAULT_RETENTION_LOG, leaveHeldLogs, refuseUnsafeCheckpoints, type RetentionPassReport } from '../../retention/periodic.ts'
import { readPolicyFile } from '../../retention/load.ts'
import type { ResolvedPolicy } from '../../retention/policy.ts'

/** Complete checkpoints each served pipeline keeps (what a retention policy must not go below). */
const RETAIN = 3

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run pipelines behind the control plane (HTTP API with tokens and an audit log)',
  usage: 'sluice serve [<pipeline.ts>...] [--workflow <workflow.ts>...] [flags]',
  description: [
    'Runs each pipeline and serves the control plane on loopback: a REST API under /api/ (jobs, status,',
    'metrics and a live stream, checkpoints, savepoints, stop, dead letters and redrive, late-record',
    'samples, SLO status, watermarks, the window explainer, the schemas of the sources and the latest',
    'quality results) described at /openapi.json, /metrics for Prometheus and a dashboard at /. Every',
    '/api/ route and /metrics need a bearer token with a role: viewer (read), operator (also checkpoint,',
    'savepoint, stop, redrive), admin (also tokens and the audit log). When the state folder holds no',
    'token yet, an admin token is created and printed once.',
    'With --catalog the served pipelines\' lineage goes into the catalog, which the API and the lineage',
    'view show. With --workflow-store (and --workflow for their DAGs) it shows workflows: each DAG with',
    'run statuses and a partition grid, read from the run store that sluice workflow writes; with no',
    'pipeline it serves until Ctrl-C. Ctrl-C stops every pipeline gracefully.',
    'With --registry <folder> the schema registry kept there is also served under /registry with the',
    'Confluent Schema Registry API (see sluice registry), behind the tokens; with no pipeline it serves',
    'until Ctrl-C.',
    'With --retention the retention policy (as sluice retention apply --policy) is applied at start and',
    'then every --retention-every (default 1h), each deletion logged to --retention-log. A policy keeping',
    'fewer checkpoints in a served pipeline\'s checkpoint folder than the pipeline keeps (3) is refused,',
    'and embedded logs the server or its pipelines hold open are left to them.',
    'With --vault and --keyring (its master key in SLUICE_MASTER_KEY) admins may turn tokens of that token',
    'vault back into values (POST /api/vault/detokenize); every such call is in the audit log.',
  ].join('\n'),
  positionals: { min: 0, max: 32, names: 'the pipeline files (sluice serve <pipeline.ts>...)' },
  flags: [
    { name: 'port', type: 'string', placeholder: 'PORT', description: 'port to listen on (default 8080; 0: any free port)' },
    { name: 'host', type: 'string', placeholder: 'HOST', description: 'address to listen on (default 127.0.0.1: this machine only)' },
    { name: 'state-dir', type: 'string', placeholder: 'DIR', description: "tokens, audit log and API savepoints (default '.sluice/server')" },
    { name: 'checkpoint-dir', type: 'string', placeholder: 'DIR', description: 'checkpoint each pipeline in DIR/<pipeline name> (every 10s)' },
    { name: 'checkpoint-interval', type: 'string', placeholder: 'DURATION', description: "time between checkpoints with --checkpoint-dir, e.g. '10s' (default 10s)" },
    { name: 'prometheus', type: 'string', placeholder: 'URL', description: 'Prometheus that runs the rules of sluice slo rules: SLO status from it (default: counted by the server since it started)' },
    { name: 'catalog', type: 'string', placeholder: 'DIR', description: "a catalog folder (as sluice catalog --dir): the served pipelines' lineage goes into it; served under /api/catalog/ and in the dashboard's lineage view" },
    { name: 'registry', type: 'string', placeholder: 'DIR|URL', description: "a schema registry (an embedded one's folder or a URL): the API says where each source's contract stands in it; a folder's registry is also served under /registry with the Confluent Schema Registry API (a token as bearer, or as the password of basic auth)" },
    { name: 'workflow', type: 'string', multiple: true, placeholder: 'FILE', description: 'a workflow module whose DAG and partition grid the API and dashboard show' },
    { name: 'workflow-store', type: 'string', placeholder: 'FILE', description: 'the workflows\' run store (as sluice workflow --store; default .sluice/workflows.db with --workflow)' },
    { name: 'retention', type: 'string', placeholder: 'FILE', description: 'a retention policy (YAML or JSON) applied at start and then periodically while the server runs' },
    { name: 'retention-every', type: 'string', placeholder: 'DURATION', description: "time between retention passes with --retention (default '1h')" },
    { name: 'retention-log', type: 'string', placeholder: 'FILE', description: `where retention passes log deletions (default ${DEFAULT_RETENTION_LOG})` },
    { name: 'audit-retention', type: 'string', placeholder: 'DURATION', description: "how long the audit log keeps its entries, e.g. '365d' (default: for ever); old segments go while the server runs" },
    { name: 'vault', type: 'string', placeholder: 'DIR', description: 'a token vault (privacy.tokenize) whose tokens admins may detokenize through the API; needs --keyring' },
    { name: 'keyring', type: 'string', placeholder: 'FILE', description: 'with --vault: the keyring of its keys (sluice keys), opened with the master key in SLUICE_MASTER_KEY' },
    { name: 'param', type: 'string', multiple: true, placeholder: 'key=value', description: 'a parameter for pipeline factories' },
    { name: 'no-check', type: 'boolean', description: 'run without type-checking the pipelines first' },
  ],
  examples: ['sluice serve pipelines/clicks.ts --port 8080', 'sluice serve orders.ts --checkpoint-dir state --retention retention.yaml --retention-every 6h', 'sluice serve --workflow examples/workflow-hourly/workflow.ts --workflow-store examples/workflow-hourly/out/runs.db', 'sluice serve a.ts b.ts --checkpoint-dir state --state-dir state/server'],

  async run({ values, positionals }, ctx) {
    const port = portFlag(values)
    const params = paramsFlag(values, 'serve')
    const jobs = new Map<string, JobHandle>()
    const infos = new Map<string, JobInfo>()
    const checkpointDirs = new Map<string, string>()
    const checkpointDir = typeof values['checkpoint-dir'] === 'string' ? resolve(ctx.cwd, values['checkpoint-dir']) : undefined
    let intervalMs = 10_000
    if (typeof values['checkpoint-interval'] === 'string') {
      try {
        intervalMs = parseDuration(values['checkpoint-interval'], '--checkpoint-interval')
      } catch (e) {
        throw new UsageError(errorMessage(e), 'serve')
      }
    }
    const retention = await retentionFlags(values, ctx)
    let auditRetention: number | undefined
    if (typeof values['audit-retention'] === 'string') {
      try {
        auditRetention = parseDuration(values['audit-retention'], '--audit-retention', { allowZero: false })
      } catch (e) {
        throw new UsageError(errorMessage(e), 'serve')
      }
    }
    const workflowFiles = Array.isArray(values.workflow) ? values.workflow.map(String) : []
    const storeFile = typeof values['workflow-store'] === 'string' ? values['workflow-store'] : workflowFiles.length > 0 ? join('.sluice', 'workflows.db') : undefined
    const registryFolder = typeof values.registry === 'string' && !/^https?:\/\//.test(values.registry)
    if (positionals.length === 0 && storeFile === undefined && !registryFolder) throw new UsageError('give pipeline files, workflows to show (--workflow, --workflow-store), or a registry folder to serve (--registry)', 'serve')
    const definitions = []
    for (const f of workflowFiles) definitions.push(workflowShape(await loadWorkflow(f, ctx.cwd)))
    const workflows: ServedWorkflows | undefined = storeFile !== undefined ? { store: new WorkflowStore(resolve(ctx.cwd, storeFile)), definitions } : undefined
    if ((typeof values.vault === 'string') !== (typeof values.keyring === 'string')) throw new UsageError('--vault and --keyring go together', 'serve')
    const catalog = typeof values.catalog === 'string' ? Catalog.open(resolve(ctx.cwd, values.catalog)) : undefined
    const vault = typeof values.vault === 'string' ? TokenVault.open(resolve(ctx.cwd, values.vault), LocalKeyring.open(resolve(ctx.cwd, String(values.keyring)), masterKeyFrom(ctx.env))) : undefined
    const loadedAll: Awaited<ReturnType<typeof loadPipeline>>[] = []
    for (const file of positionals) {
      if (values['no-check'] !== true) await requireTypes(resolvePipelineFile(file, ctx.cwd), file, ctx)
      const loaded = await loadPipeline(file, params, ctx.cwd)
      const name = loaded.pipeline.name
      if (loadedAll.some((l) => l.pipeline.name === name)) throw new UsageError(`two pipelines are named '${name}': names must differ`, 'serve')
      loadedAll.push(loaded)
    }
    // Checked before any pipeline starts: a refused policy leaves nothing running.
    if (retention !== undefined && checkpointDir !== undefined) refuseUnsafeCheckpoints(retention.policy, loadedAll.map((l) => ({ job: l.pipeline.name, dir: join(checkpointDir, l.pipeline.name), keep: RETAIN })), ctx.cwd)
    // A served pipeline's lineage file named by the policy's `logs` keeps itself: its transport drops old segments.
    const lineageAges = new Map<string, number>()
    if (retention !== undefined) {
      for (const l of loadedAll) {
        const path = lineageFile(l.pipeline.options.lineage)
        const entry = path !== undefined ? retention.policy.logs.find((x) => resolve(ctx.cwd, x.path) === resolve(ctx.cwd, path)) : undefined
        if (entry !== undefined) lineageAges.set(l.pipeline.name, entry.maxAgeMs)
      }
      const held = loadedAll.flatMap((l) => {
        const path = lineageFile(l.pipeline.options.lineage)
        return path !== undefined ? [{ job: l.pipeline.name, path }] : []
      })
      const { policy, left } = leaveHeldLogs(retention.policy, held, ctx.cwd)
      retention.policy = policy
      for (const h of left) ctx.stderr.write(`retention: '${h.path}' is written by the running pipeline '${h.job}': it is not trimmed while the server runs: the pipeline drops its old segments itself (sluice retention apply trims the rest once stopped)\n`)
    }
    for (const loaded of loadedAll) {
      const name = loaded.pipeline.name
      infos.set(name, jobInfoOf(loaded.pipeline))
      if (checkpointDir !== undefined) checkpointDirs.set(name, join(checkpointDir, name))
      const maxAge = lineageAges.get(name)
      const file = maxAge !== undefined && retention !== undefined ? { maxAge, onDrop: (d: { path: string; bytes: number; cutoff: number }) => logDrop(retention.logFile, d, maxAge) } : undefined
      const lineage = catalog !== undefined ? { lineage: { transport: intoCatalog(catalog, loaded.pipeline.options.lineage, file) } } : file !== undefined ? { lineage: { file } } : {}
      jobs.set(name, start(loaded.pipeline, { module: loaded.url, params, ...lineage, ...(checkpointDir !== undefined ? { checkpoint: { dir: join(checkpointDir, name), intervalMs, retain: RETAIN } } : {}) }))
    }
    try {
      const registry = typeof values.registry === 'string' ? (/^https?:\/\//.test(values.registry) ? values.registry : resolve(ctx.cwd, values.registry)) : undefined
      return await serveJobs(jobs, { infos, checkpointDirs, ...(retention !== undefined ? { retention } : {}), ...(catalog !== undefined ? { catalog } : {}), ...(vault !== undefined ? { vault } : {}), ...(auditRetention !== undefined ? { auditRetention } : {}), ...(workflows !== undefined ? { workflows } : {}), ...(registry !== undefined ? { registry } : {}), ...(typeof values.prometheus === 'string' ? { prometheusUrl: values.prometheus } : {}), port, host: typeof values.host === 'string' ? values.host : undefined, stateDir: resolve(ctx.cwd, typeof values['state-dir'] === 'string' ? values['state-dir'] : '.sluice/server') }, ctx)
    } finally {
      catalog?.close()
      await vault?.close()
      workflows?.store.close()
    }
  },
}

/** The --retention policy and its period and log, with each pass reported on stderr; undefined without the flag. */
async function retentionFlags(values: ParsedArgs['values'], ctx: CliContext): Promise<{ policy: ResolvedPolicy; everyMs: number; logFile: string; cwd: string; onPass: (r: RetentionPassReport) => void; onError: (e: unknown, pass: number) => void } | undefined> {
  if (typeof values.retention !== 'string') {
    if (values['retention-every'] !== undefined || values['retention-log'] !== undefined) throw new UsageError('--retention-every and --retention-log go with --retention', 'serve')
    return undefined
  }
  let everyMs = 3_600_000
  if (typeof values['retention-every'] === 'string') {
    try {
      everyMs = parseDuration(values['retention-every'], '--retention-every')
    } catch (e) {
      throw new UsageError(errorMessage(e), 'serve')
    }
    if (everyMs <= 0) throw new UsageError('--retention-every must be positive', 'serve')
  }
  const logFile = resolve(ctx.cwd, typeof values['retention-log'] === 'string' ? values['retention-log'] : DEFAULT_RETENTION_LOG)
  return {
    policy: await readPolicyFile(resolve(ctx.cwd, values.retention), values.retention),
    everyMs,
    logFile,
    cwd: ctx.cwd,
    onPass: ({ pass, actions }) => {
      if (actions.length > 0) ctx.stderr.write(`retention pass ${pass}: ${actions.length} deletions, ${actions.reduce((a, x) => a + x.bytes, 0)} bytes (logged to ${values['retention-log'] ?? DEFAULT_RETENTION_LOG})\n`)
    },
    onError: (e, pass) => void ctx.stderr.write(`retention pass ${pass} failed: ${errorMessage(e)}\n`),
  }
}

/** The file a pipeline's lineage goes to (its option, else SLUICE_LINEAGE), if a file. */
function lineageFile(own: string | { transport: string } | undefined): string | undefined {
  const target = (typeof own === 'string' ? own : own?.transport) ?? process.env.SLUICE_LINEAGE
  return target === undefined || target === '' || target === 'console' || /^https?:\/\//i.test(target) ? undefined : target
}

/** Lineage events into the catalog, and to the pipeline's own lineage target (its option, else SLUICE_LINEAGE) too, a file kept as `file` says. */
function intoCatalog(catalog: Catalog, own: string | { transport: string } | undefined, file?: FileTransportOptions): LineageTransport {
  const target = (typeof own === 'string' ? own : own?.transport) ?? process.env.SLUICE_LINEAGE
  const also = target !== undefined && target !== '' ? transportFor(target, file) : undefined
  return {
    describe: also !== undefined ? `catalog and ${also.describe}` : 'catalog',
    async send(e) {
      catalog.ingestEvent(e)
      await also?.send(e)
    },
  }
}

/** The --port value (default 8080). */
export function portFlag(values: ParsedArgs['values'], flag = 'port', command = 'serve'): number {
  if (values[flag] === undefined) return 8080
  const p = values[flag] === '0' ? 0 : positiveIntFlag(values, flag, command)
  if (p === undefined || p > 65535) throw new UsageError(`--${flag} must be a port number (0 to 65535)`, command)
  return p
}

/**
 * Serves the control plane for `jobs` until they have all ended (or Ctrl-C has stopped them); the exit code.
 * Used by `sluice serve` and `sluice run --serve`.
 */
export async function serveJobs(jobs: ReadonlyMap<string, JobHandle>, opts: { retention?: ServeOptions['retention']; checkpointDirs?: ReadonlyMap<string, string>; port: number; host: string | undefined; stateDir: string; graphs?: ReadonlyMap<string, readonly GraphStep[]>; infos?: ReadonlyMap<string, JobInfo>; prometheusUrl?: string; catalog?: Catalog; vault?: TokenVault; auditRetention?: number; registry?: string; workflows?: ServedWorkflows }, ctx: CliContext): Promise<number> {
  const server = await serveControlPlane({ jobs, ...(opts.checkpointDirs !== undefined ? { checkpointDirs: opts.checkpointDirs } : {}), ...(opts.auditRetention !== undefined ? { auditRetention: opts.auditRetention } : {}), ...(opts.retention !== undefined ? { retention: opts.retention } : {}), ...(opts.workflows !== undefined ? { workflows: opts.workflows } : {}), ...(opts.catalog !== undefined ? { catalog: opts.catalog } : {}), ...(opts.vault !== undefined ? { vault: opts.vault } : {}), ...(opts.registry !== undefined ? { registry: opts.registry } : {}), ...(opts.graphs !== undefined ? { graphs: opts.graphs } : {}), ...(opts.infos !== undefined ? { infos: opts.infos } : {}), ...(opts.prometheusUrl !== undefined ? { prometheusUrl: opts.prometheusUrl } : {}), stateDir: opts.stateDir, port: opts.port, ...(opts.host !== undefined ? { host: opts.host } : {}) })
  ctx.stderr.write(`control plane on ${server.url} (API under /api/, described at /openapi.json)\n`)
  if (opts.registry !== undefined && !/^https?:\/\//.test(opts.registry)) ctx.stderr.write(`schema registry on ${server.url}/registry (the Confluent API; schemas in ${opts.registry})\n`)
  if (server.tokens.list().length === 0) {
    const t = await server.tokens.create('admin')
    ctx.stderr.write(`no token yet: created an admin token (shown once, stored hashed):\n  ${t.token}\n`)
  }
  // With no pipeline (workflows or a registry only) the server runs until Ctrl-C.
  let interrupted: () => void = () => {}
  const signalled = new Promise<void>((resolve) => (interrupted = resolve))
  const onSignal = () => {
    ctx.stderr.write('stopping…\n')
    for (const h of jobs.values()) void h.stop().catch(() => {})
    interrupted()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let failed = false
  try {
    if (jobs.size === 0) await signalled
    for (const [name, h] of jobs) {
      await h.done.catch((e: unknown) => {
        failed = true
        ctx.stderr.write(`pipeline '${name}' ended: ${(e as Error).message}\n`)
      })
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await server.close()
  }
  return failed ? exitCode.failure : exitCode.ok
}
