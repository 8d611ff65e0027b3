import type { Context, Hono } from 'hono'
import type { RunStatus, WorkflowStore } from '../workflow/store.ts'
import { queryOf, WorkflowQuery } from './routes.ts'

/** A workflow's shape as the control plane shows it: its tasks and their dependencies, its partitions' kind. */
export interface WorkflowShape {
  name: string
  tasks: readonly { name: string; kind: string; dependsOn: readonly string[] }[]
  partitions?: string
  schedule?: string
}

/** The workflows the control plane shows: a run store, and the workflows whose modules it was given. */
export interface ServedWorkflows {
  store: WorkflowStore
  /** Workflows from their modules (tasks and dependencies); workflows found only in the store show their tasks without edges. */
  definitions?: readonly WorkflowShape[]
}

/**
 * A workflow's shape (`tasks`, `partitions`, `schedule`) for the control plane.
 * @example serveControlPlane({ jobs, workflows: { store, definitions: [workflowShape(wf)] }, stateDir })
 */
export function workflowShape(wf: { name: string; tasks: readonly { name: string; action: { kind: string }; dependsOn: readonly string[] }[]; partitions: { kind: string }; schedule?: { description: string } | undefined }): WorkflowShape {
  return { name: wf.name, tasks: wf.tasks.map((t) => ({ name: t.name, kind: t.action.kind, dependsOn: [...t.dependsOn] })), partitions: wf.partitions.kind, ...(wf.schedule !== undefined ? { schedule: wf.schedule.description } : {}) }
}

const STATUSES: readonly RunStatus[] = ['pending', 'running', 'retrying', 'succeeded', 'failed', 'upstream_failed', 'cancelled']
const counts = (statuses: readonly RunStatus[]) => Object.fromEntries(STATUSES.map((s) => [s, statuses.filter((x) => x === s).length])) as Record<RunStatus, number>

type Fail = (c: Context, status: 400 | 404, code: string, message: string) => Response

/**
 * `GET /api/workflows` (every workflow with its tasks and run counts by status) and `GET /api/workflows/:workflow`
 * (the DAG with each task's counts, and the partition grid: the latest `limit` partitions that have runs, with the
 * status of each task's run). Read from the store on each call, so runs of a scheduler in another process show.
 */
export function workflowRoutes(app: Hono<any>, served: ServedWorkflows | undefined, fail: Fail): void {
  const none = (c: Context) => fail(c, 404, 'SLUICE_NOT_FOUND', 'this server has no workflow store (sluice serve --workflow-store FILE)')
  const shapeOf = (s: ServedWorkflows, name: string): WorkflowShape | undefined => {
    const d = s.definitions?.find((w) => w.name === name)
    if (d !== undefined) return d
    const runs = s.store.runs(name)
    if (runs.length === 0) return undefined
    return { name, tasks: [...new Set(runs.map((r) => r.task))].map((t) => ({ name: t, kind: 'unknown', dependsOn: [] })) }
  }
  app.get('/api/workflows', (c) => {
    if (served === undefined) return none(c)
    const names = [...new Set([...(served.definitions ?? []).map((w) => w.name), ...served.store.workflows()])].sort()
    return c.json(names.map((n) => ({ ...shapeOf(served, n)!, runs: counts(served.store.runs(n).map((r) => r.status)) })))
  })
  app.get('/api/workflows/:workflow', (c) => {
    if (served === undefined) return none(c)
    const { limit } = queryOf(c, WorkflowQuery)
    const shape = shapeOf(served, c.req.param('workflow'))
    if (shape === undefined) return fail(c, 404, 'SLUICE_NOT_FOUND', 'no such workflow')
    const all = served.store.runs(shape.name)
    const partitions = [...new Set(all.map((r) => r.partition))].sort().slice(-limit)
    const shown = new Set(partitions)
    const runs = all.filter((r) => shown.has(r.partition)).map((r) => ({ task: r.task, partition: r.partition, status: r.status, attempts: r.attempts, startedAt: r.startedAt, endedAt: r.endedAt, error: r.error }))
    return c.json({ ...shape, tasks: shape.tasks.map((t) => ({ ...t, runs: counts(all.filter((r) => r.task === t.name).map((r) => r.status)) })), partitions, runs })
  })
}
