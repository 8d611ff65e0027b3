import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import { parentFacet } from '../lineage/emitter.ts'
import { facet, PRODUCER, SPEC, type BaseFacet, type EventType, type ParentRun, type RunEvent } from '../lineage/openlineage.ts'
import { transportFor, type LineageTransport } from '../lineage/transport.ts'
import type { RunRow } from './store.ts'

/**
 * Where a scheduler sends the lineage of its runs; pipeline tasks send theirs to the same place.
 * @example new Scheduler(wf, { store, lineage: { transport: 'lineage/events.ndjson' } })
 */
export interface WorkflowLineageOptions {
  /** A file path (NDJSON), an `http(s)://` Marquez-compatible endpoint, 'console', or a transport. */
  transport: string | LineageTransport
  /** Default `SLUICE_LINEAGE_NAMESPACE` or 'sluice'. */
  namespace?: string
  /** Epoch ms; default the scheduler's clock. */
  now?: () => number
  /** Called when an event cannot be sent (the scheduler goes on). */
  onError?: (e: unknown) => void
}

/**
 * A UUID (version 5 layout) derived from the parts, so that every process names the same run alike.
 * @example stableRunId('hourly', '2026-01-01T10') === stableRunId('hourly', '2026-01-01T10') // true, in any process
 */
export function stableRunId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export function lineageNamespace(given?: string): string {
  return given ?? process.env.SLUICE_LINEAGE_NAMESPACE ?? 'sluice'
}

/**
 * The workflow run of a partition: job `<workflow>`, one run id per (workflow, partition).
 * @example workflowRun('hourly', '2026-01-01T10').runId === stableRunId('hourly', '2026-01-01T10') // one run per partition
 */
export function workflowRun(workflow: string, partition: string, namespace = lineageNamespace()): ParentRun {
  return { runId: stableRunId(workflow, partition), job: { namespace, name: workflow } }
}

/**
 * A task run: job `<workflow>.<task>`, one run id per attempt, its parent the partition's workflow run.
 * @example taskRun('hourly', 'ingest', '2026-01-01T10', 1).job.name // 'hourly.ingest'
 */
export function taskRun(workflow: string, task: string, partition: string, attempt: number, namespace = lineageNamespace()): ParentRun {
  const root = workflowRun(workflow, partition, namespace)
  return { runId: stableRunId(workflow, task, partition, String(attempt)), job: { namespace, name: `${workflow}.${task}` }, root: { runId: root.runId, job: root.job } }
}

/**
 * The OpenLineage events of a workflow's runs. Each partition is a workflow run (job `<workflow>`): START when
 * its first task attempt starts, COMPLETE when every task succeeded, FAIL when a task failed for good, ABORT
 * when what is left was cancelled. Each task attempt is a task run (job `<workflow>.<task>`, the workflow run
 * as parent): START, then COMPLETE, FAIL (with the error) or ABORT (cancelled). A pipeline a task runs names
 * the task run as parent and the workflow run as root.
 * @example
 * const lineage = new WorkflowLineage('hourly', { transport: 'lineage/events.ndjson' }, Date.now)
 * lineage.settle(store.runs('hourly')); await lineage.flush()
 */
export class WorkflowLineage {
  /**
   * The OpenLineage namespace of the jobs and runs.
   * @example new WorkflowLineage('hourly', { transport: 'console', namespace: 'prod' }, Date.now).namespace // 'prod'
   */
  readonly namespace: string
  /**
   * Where the run events go.
   * @example await lineage.transport.send(event)
   */
  readonly transport: LineageTransport
  /**
   * What tasks are given to send their pipelines' lineage to: the target as `sluice run --lineage` takes it (a
   * file path made absolute, so a shell task in another folder finds the same file), or the transport given.
   * @example new WorkflowLineage('hourly', { transport: 'lineage/events.ndjson' }, Date.now).target // the file's absolute path
   */
  readonly target: string | LineageTransport
  readonly #workflow: string
  readonly #now: () => number
  readonly #onError: (e: unknown) => void
  readonly #open = new Set<string>()
  #chain: Promise<void> = Promise.resolve()

  constructor(workflow: string, options: WorkflowLineageOptions, now: () => number) {
    this.#workflow = workflow
    this.namespace = lineageNamespace(options.namespace)
    this.transport = transportFor(options.transport)
    const t = options.transport
    this.target = typeof t !== 'string' || t === 'console' || /^https?:\/\//i.test(t) ? t : resolve(t)
    this.#now = options.now ?? now
    this.#onError = options.onError ?? (() => {})
  }

  /**
   * A task attempt started: START of the workflow run for its partition (the first time), then of the task run.
   * @example lineage.taskStarted('ingest', '2024-05-01T10', 1, { start: '2024-05-01T10:00:00Z', end: '2024-05-01T11:00:00Z' })
   */
  taskStarted(task: string, partition: string, attempt: number, nominal: { start?: string; end?: string }): void {
    if (!this.#open.has(partition)) {
      this.#open.add(partition)
      this.#send('START', workflowRun(this.#workflow, partition, this.namespace), 'DAG', undefined, nominal)
    }
    this.#send('START', taskRun(this.#workflow, task, partition, attempt, this.namespace), 'TASK', undefined, nominal)
  }

  /**
   * A task attempt ended: COMPLETE, FAIL (with the error) or ABORT of its task run.
   * @example lineage.taskEnded('ingest', '2024-05-01T10', 1, 'FAIL', 'exit code 1')
   */
  taskEnded(task: string, partition: string, attempt: number, type: 'COMPLETE' | 'FAIL' | 'ABORT', error?: string): void {
    this.#send(type, taskRun(this.#workflow, task, partition, attempt, this.namespace), 'TASK', error)
  }

  /**
   * Ends the workflow runs of partitions whose runs are all settled (none queued, running or to retry).
   * @example lineage.settle(store.runs('hourly')) // COMPLETE, FAIL or ABORT for each partition that is done
   */
  settle(runs: readonly RunRow[]): void {
    const byPartition = new Map<string, RunRow[]>()
    for (const r of runs) if (this.#open.has(r.partition)) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r])
    for (const [partition, rs] of byPartition) {
      if (rs.some((r) => r.status === 'pending' || r.status === 'running' || r.status === 'retrying')) continue
      this.#open.delete(partition)
      const failed = rs.filter((r) => r.status === 'failed' || r.status === 'upstream_failed')
      const type = rs.every((r) => r.status === 'succeeded') ? 'COMPLETE' : failed.length > 0 ? 'FAIL' : 'ABORT'
      const error = failed.find((r) => r.status === 'failed')
      this.#send(type, workflowRun(this.#workflow, partition, this.namespace), 'DAG', type === 'FAIL' ? `task '${error?.task ?? failed[0]!.task}' failed${error?.error ? `: ${error.error}` : ''}` : undefined)
    }
  }

  /**
   * Resolves once every event sent so far has been sent, or failed to be.
   * @example await lineage.flush() // before the process exits
   */
  flush(): Promise<void> {
    return this.#chain
  }

  #send(type: EventType, run: ParentRun, jobType: 'DAG' | 'TASK', error?: string, nominal?: { start?: string; end?: string }): void {
    const facets: Record<string, BaseFacet> = {}
    if (nominal?.start !== undefined && nominal.start !== '') facets.nominalTime = facet('NominalTimeRunFacet', { nominalStartTime: nominal.start, ...(nominal.end ? { nominalEndTime: nominal.end } : {}) })
    if (run.root !== undefined) facets.parent = parentFacet({ runId: run.root.runId, job: run.root.job })
    if (error !== undefined) facets.errorMessage = facet('ErrorMessageRunFacet', { message: error, programmingLanguage: 'TypeScript' })
    const e: RunEvent = {
      eventType: type,
      eventTime: new Date(this.#now()).toISOString(),
      run: { runId: run.runId, facets },
      job: { namespace: run.job.namespace, name: run.job.name, facets: { jobType: facet('JobTypeJobFacet', { processingType: 'BATCH', integration: 'SLUICE', jobType }) } },
      inputs: [],
      outputs: [],
      producer: PRODUCER,
      schemaURL: `${SPEC}#/$defs/RunEvent`,
    }
    this.#chain = this.#chain.then(() => this.transport.send(e)).catch((err: unknown) => this.#onError(err))
  }
}
