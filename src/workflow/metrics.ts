import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { SluiceError } from '../core/errors.ts'
import { lazyRequire } from '../core/lazy-require.ts'
import type { WorkflowEvent } from './scheduler.ts'
import type { WorkflowStore } from './store.ts'

const promClient = lazyRequire<typeof import('prom-client')>(import.meta.url, 'prom-client')

/**
 * How an attempt ended, as the `outcome` label says it: `retrying` is a failure that will be retried.
 * @example
 * // sluice_workflow_task_attempts_total{workflow="hourly", task="ingest", outcome="retrying"} 2
 * const outcome: AttemptOutcome = 'retrying' // a failed attempt that will be tried again
 */
export type AttemptOutcome = 'succeeded' | 'failed' | 'retrying' | 'cancelled'

/**
 * The metric names (the alert rules of `workflowRules` read them).
 * @example WORKFLOW_METRICS.attempts // 'sluice_workflow_task_attempts_total'
 */
export const WORKFLOW_METRICS = {
  attempts: 'sluice_workflow_task_attempts_total',
  duration: 'sluice_workflow_task_duration_seconds',
  queue: 'sluice_workflow_task_queue_seconds',
  slaMissed: 'sluice_workflow_sla_missed_total',
  runs: 'sluice_workflow_runs',
} as const

/** Seconds: from a second to a day, for task runs and their waits in the queue. */
const BUCKETS = [1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600, 86400]

/**
 * A workflow scheduler's Prometheus metrics, fed by its events: attempts by outcome, their durations, the
 * time runs waited in the queue, missed SLAs, and (read from the store at each scrape) the runs in each
 * status. Labels are the workflow, the task, the outcome or status: never a partition, which is unbounded.
 * @example
 * const metrics = new WorkflowMetrics(wf.name, store)
 * const s = new Scheduler(wf, { store, onEvent: (e) => metrics.observe(e) })
 * const text = await metrics.render()
 */
export class WorkflowMetrics {
  /**
   * The prom-client registry holding the workflow's metrics (to merge into another, or serve).
   * @example const text = await new WorkflowMetrics('hourly').registry.metrics()
   */
  readonly registry: Registry
  readonly #workflow: string
  readonly #attempts
  readonly #duration
  readonly #queue
  readonly #sla

  constructor(workflow: string, store?: WorkflowStore) {
    const client = promClient()
    this.#workflow = workflow
    this.registry = new client.Registry()
    const registers = [this.registry]
    this.#attempts = new client.Counter({ name: WORKFLOW_METRICS.attempts, help: 'Task attempts that ended, by outcome (retrying: failed, to be retried).', labelNames: ['workflow', 'task', 'outcome'], registers })
    this.#duration = new client.Histogram({ name: WORKFLOW_METRICS.duration, help: 'How long task attempts ran, by outcome.', labelNames: ['workflow', 'task', 'outcome'], buckets: BUCKETS, registers })
    this.#queue = new client.Histogram({ name: WORKFLOW_METRICS.queue, help: 'How long task runs waited from being queued to starting.', labelNames: ['workflow', 'task'], buckets: BUCKETS, registers })
    this.#sla = new client.Counter({ name: WORKFLOW_METRICS.slaMissed, help: 'Task runs that missed their SLA.', labelNames: ['workflow', 'task'], registers })
    if (store !== undefined) {
      new client.Gauge({
        name: WORKFLOW_METRICS.runs,
        help: 'Task runs of the workflow in each status, read from the store.',
        labelNames: ['workflow', 'status'],
        registers,
        collect() {
          const counts = store.statusCounts(workflow)
          this.reset()
          for (const [status, n] of counts) this.set({ workflow, status }, n)
        },
      })
    }
  }

  /**
   * Counts one scheduler event.
   * @example
   * const metrics = new WorkflowMetrics(wf.name, store)
   * new Scheduler(wf, { store, onEvent: (e) => metrics.observe(e) })
   */
  observe(e: WorkflowEvent): void {
    const workflow = this.#workflow
    if (e.type === 'run-started') this.#queue.observe({ workflow, task: e.task }, Math.max(0, e.queuedMs) / 1000)
    else if (e.type === 'sla-missed') this.#sla.inc({ workflow, task: e.task })
    else if (e.type === 'run-succeeded' || e.type === 'run-failed' || e.type === 'run-cancelled') {
      const outcome: AttemptOutcome = e.type === 'run-succeeded' ? 'succeeded' : e.type === 'run-cancelled' ? 'cancelled' : e.retryInMs !== undefined ? 'retrying' : 'failed'
      this.#attempts.inc({ workflow, task: e.task, outcome })
      this.#duration.observe({ workflow, task: e.task, outcome }, e.durationMs / 1000)
    }
  }

  /**
   * The Prometheus text format.
   * @example const text = await new WorkflowMetrics('hourly', store).render() // '# HELP sluice_workflow_task_attempts_total ...'
   */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  /**
   * Serves `GET /metrics` (and `/healthz`) on loopback unless told otherwise; port 0 picks a free one.
   * @example const server = await new WorkflowMetrics('hourly', store).serve(9465); console.log(server.url); await server.close()
   */
  async serve(port: number, host = '127.0.0.1'): Promise<{ port: number; url: string; close(): Promise<void> }> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
        return
      }
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
        return
      }
      this.render().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n'),
      )
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new SluiceError('SLUICE_METRICS_PORT_UNAVAILABLE', `the metrics server cannot listen on ${host}:${port} (${e.code ?? e.message})`, { domain: 'user', hint: 'choose another --metrics-port, or stop what uses this one', cause: e })),
      )
      server.listen(port, host, () => resolve())
    })
    const bound = (server.address() as AddressInfo).port
    return {
      port: bound,
      url: `http://${host}:${bound}`,
      close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() }),
    }
  }
}
