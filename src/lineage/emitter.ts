import { randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import type { StepNode } from '../plan/graph.ts'
import type { MetricsSnapshot } from '../observe/metrics/registry.ts'
import { scrubMessage } from '../core/scrub.ts'
import { forgetQualityResults, qualityResultsSeen } from '../contracts/quality/results-seen.ts'
import { columnLineage, type PipelineColumns } from './column-lineage.ts'
import { columnLineageFacet, contractFacets, contractOf, dataSourceFacet, qualityAssertions, qualityMetrics, schemaFacet } from './facets.ts'
import { datasetsOf } from './naming.ts'
import { facet, PRODUCER, SPEC, type BaseFacet, type Dataset, type EventType, type ParentRun, type RunEvent } from './openlineage.ts'
import { transportFor, type FileTransportOptions, type LineageTransport } from './transport.ts'

const ENGINE_VERSION = PRODUCER.split('/v').at(-1) ?? '0'

/**
 * Where and how a run's lineage is emitted.
 * @example run(p, { lineage: { transport: 'lineage/events.ndjson', owner: 'data-platform' } })
 */
export interface LineageOptions {
  /** A file path (NDJSON), an `http(s)://` Marquez-compatible endpoint, 'console', or a transport. */
  transport: string | LineageTransport
  /** For a file target: how it is kept (`maxAge` drops old closed segments while the job runs; see `fileTransport`). */
  file?: FileTransportOptions
  /** The job's namespace. Default `SLUICE_LINEAGE_NAMESPACE` or 'sluice'. */
  namespace?: string
  /** The job's owners (the ownership job facet). */
  owner?: string | readonly string[]
  /** The run that started this one (a workflow's task run). */
  parent?: ParentRun
  /** When the run was meant to start and end (a workflow partition's interval), epoch ms or ISO text. */
  nominalTime?: { start: number | string; end?: number | string }
  /** Between RUNNING events of a streaming job. Default 60 s. */
  runningIntervalMs?: number
  /** The pipeline module's path or URL (the source code location facet). */
  source?: string
  /** The run id (a UUID); default a new one. */
  runId?: string
  /** Epoch ms; default Date.now. */
  now?: () => number
  /** Called when an event cannot be sent (the job goes on). */
  onError?: (e: unknown) => void
}

/** What lineage needs of a running job: its name, live metrics, status and end. */
export interface LineageJob {
  readonly pipeline: string
  metrics(): MetricsSnapshot
  status(): { status: string }
  readonly done: Promise<unknown>
}

/** A run's lineage: its id, what column lineage could not know, and a way to wait for the last event. */
export interface LineageRun {
  readonly runId: string
  readonly columns: PipelineColumns
  /** Resolves once the final event (COMPLETE, FAIL or ABORT) has been sent, or failed to be. */
  flush(): Promise<void>
}

/**
 * Emits a job's OpenLineage run events: START now; RUNNING every `runningIntervalMs` while a streaming job runs
 * (one with an unbounded source); COMPLETE when it finishes or stops, FAIL (with the error message) or ABORT
 * when cancelled. Inputs and outputs are named by the OpenLineage conventions, with schema, data source,
 * ownership, column lineage, output statistics and data-quality facets. Events carry names, counts and
 * field names, never record contents, keys or credentials.
 * @example
 * const lineage = emitLineage(job, pipeline.nodes, { transport: 'lineage.ndjson' })
 * await job.done; await lineage.flush()
 */
export function emitLineage(job: LineageJob, nodes: readonly StepNode[], options: LineageOptions): LineageRun {
  const now = options.now ?? Date.now
  const transport = transportFor(options.transport, options.file)
  const runId = options.runId ?? randomUUID()
  const namespace = options.namespace ?? process.env.SLUICE_LINEAGE_NAMESPACE ?? 'sluice'
  forgetQualityResults(job.pipeline)
  const columns = columnLineage(nodes)
  const streaming = nodes.some((n) => n.impl.role === 'source' && !n.impl.source.bounded)
  const sources = nodes.filter((n) => n.impl.role === 'source')
  const sinks = nodes.filter((n) => n.impl.role === 'sink')
  const expectsOf = expectStepsBySource(nodes)
  let chain: Promise<void> = Promise.resolve()
  const send = (type: EventType, error?: unknown) => {
    const e = buildEvent(type, error)
    chain = chain.then(() => transport.send(e)).catch((err: unknown) => options.onError?.(err))
  }

  const jobFacets: Record<string, BaseFacet> = {
    jobType: facet('JobTypeJobFacet', { processingType: streaming ? 'STREAMING' : 'BATCH', integration: 'SLUICE', jobType: 'JOB' }),
    ...(options.source !== undefined ? { sourceCodeLocation: facet('SourceCodeLocationJobFacet', { type: 'file', url: sourceUrl(options.source) }) } : {}),
    ...(options.owner !== undefined ? { ownership: facet('OwnershipJobFacet', { owners: [options.owner].flat().map((name) => ({ name, type: 'team' })) }) } : {}),
  }
  const runFacets = (): Record<string, BaseFacet> => ({
    // Sluice is its own OpenLineage integration: the adapter is the engine, at the same version.
    processing_engine: facet('ProcessingEngineRunFacet', { version: ENGINE_VERSION, name: 'Sluice', openlineageAdapterVersion: ENGINE_VERSION }),
    ...(options.nominalTime !== undefined ? { nominalTime: facet('NominalTimeRunFacet', { nominalStartTime: iso(options.nominalTime.start), ...(options.nominalTime.end !== undefined ? { nominalEndTime: iso(options.nominalTime.end) } : {}) }) } : {}),
    ...(options.parent !== undefined ? { parent: parentFacet(options.parent) } : {}),
  })

  function buildEvent(type: EventType, error?: unknown): RunEvent {
    const final = type !== 'START'
    const metrics = final ? safeMetrics(job) : undefined
    const count = (step: string) => metrics?.steps.find((s) => s.step === step)
    const results = final ? qualityResultsSeen(job.pipeline) : []
    const inputs: Dataset[] = sources.flatMap((n) => {
      const contract = contractOf(n)
      return datasetsOf(n).map((d) => {
        const schema = schemaFacet(contract, undefined)
        const m = count(n.id)
        const quality = final ? qualityAssertions(n, m?.violations ?? {}, expectsOf.get(n) ?? [], results) : undefined
        return {
          ...d,
          facets: { dataSource: dataSourceFacet(d), ...(schema !== undefined ? { schema } : {}), ...contractFacets(contract) },
          ...(final ? { inputFacets: { ...(m !== undefined ? { dataQualityMetrics: qualityMetrics(m.recordsIn) } : {}), ...(quality !== undefined ? { dataQualityAssertions: quality } : {}) } } : {}),
        }
      })
    })
    const outputs: Dataset[] = sinks.flatMap((n) => {
      const cols = columns.bySink.get(n.id)
      return datasetsOf(n).map((d) => {
        const schema = schemaFacet(contractOf(n), cols)
        const lineage = cols !== undefined ? columnLineageFacet(cols) : undefined
        const m = count(n.id)
        return {
          ...d,
          facets: { dataSource: dataSourceFacet(d), ...(schema !== undefined ? { schema } : {}), ...(lineage !== undefined ? { columnLineage: lineage } : {}) },
          ...(final && m !== undefined ? { outputFacets: { outputStatistics: facet('OutputStatisticsOutputDatasetFacet', { rowCount: m.recordsIn, size: m.bytesOut }) } } : {}),
        }
      })
    })
    const facets = runFacets()
    if (type === 'FAIL' && error !== undefined) facets.errorMessage = facet('ErrorMessageRunFacet', { message: errorText(error), programmingLanguage: 'TypeScript' })
    return {
      eventType: type,
      eventTime: new Date(now()).toISOString(),
      run: { runId, facets },
      job: { namespace, name: job.pipeline, facets: jobFacets },
      inputs,
      outputs,
      producer: PRODUCER,
      schemaURL: `${SPEC}#/$defs/RunEvent`,
    }
  }

  send('START')
  const timer = streaming ? setInterval(() => send('RUNNING'), options.runningIntervalMs ?? 60_000) : undefined
  timer?.unref()
  const ended = job.done.then(
    () => send('COMPLETE'),
    (e: unknown) => send(job.status().status === 'cancelled' ? 'ABORT' : 'FAIL', e),
  ).finally(() => clearInterval(timer))
  return { runId, columns, flush: async () => {
    await ended
    await chain
  } }
}

/** The parent run facet: the parent run and, when there is one above it, the root run. */
export function parentFacet(p: ParentRun): BaseFacet {
  const root = p.root !== undefined ? { root: { run: { runId: p.root.runId }, job: { namespace: p.root.job.namespace, name: p.root.job.name } } } : {}
  return facet('ParentRunFacet', { run: { runId: p.runId }, job: { namespace: p.job.namespace, name: p.job.name }, ...root })
}

/** For each source step, the `expect` steps downstream of it. */
function expectStepsBySource(nodes: readonly StepNode[]): Map<StepNode, string[]> {
  const upstream = new Map<StepNode, Set<StepNode>>()
  for (const n of nodes) {
    const s = new Set<StepNode>()
    if (n.impl.role === 'source') s.add(n)
    for (const e of n.inputs) for (const x of upstream.get(e.from) ?? []) s.add(x)
    upstream.set(n, s)
  }
  const out = new Map<StepNode, string[]>()
  for (const n of nodes) {
    if (n.kind !== 'expect') continue
    for (const src of upstream.get(n) ?? []) out.set(src, [...(out.get(src) ?? []), n.id])
  }
  return out
}

function safeMetrics(job: LineageJob): MetricsSnapshot | undefined {
  try {
    return job.metrics()
  } catch {
    return undefined
  }
}

/** A Sluice error's code and message, without a wrapped error's message; others scrubbed. */
function errorText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code
  let message = e instanceof Error ? e.message : String(e)
  // A Sluice error that wraps a user function's error repeats its message, which may quote the record.
  const cause = (e as { cause?: unknown } | null)?.cause
  if (cause instanceof Error && cause.message !== '' && message.includes(cause.message)) message = message.replace(cause.message, `(${cause.name}'s message left out)`)
  return typeof code === 'string' && code.startsWith('SLUICE_') ? `${code}: ${message}` : scrubMessage(message)
}

function iso(t: number | string): string {
  return typeof t === 'number' ? new Date(t).toISOString() : new Date(t).toISOString()
}

function sourceUrl(s: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : pathToFileURL(s).href
}
