import { userError } from '../core/errors.ts'
import type { PartitionSet } from './partitions.ts'
import { staticPartitions } from './partitions.ts'
import { defaultRetry } from './retry.ts'
import type { CatchUp, Schedule } from './schedule.ts'
import type { TaskAction, TaskOptions, TaskSpec } from './task.ts'

/**
 * Options of a workflow: its partitions, its schedule, what to do with ticks missed while no scheduler ran,
 * and how many of its task runs may go at once.
 * @example workflow('hourly', { partitions: hourly('2024-05-01'), schedule: cron('5 * * * *'), concurrency: 4 })
 */
export interface WorkflowOptions {
  /** The partitions each task runs for (one run per task and partition); default one static partition, `default`. */
  partitions?: PartitionSet
  /** When runs fall due (`cron`, `every`); with static partitions a schedule makes one partition per tick. */
  schedule?: Schedule
  /** Ticks missed while no scheduler ran: run each (`all`, the default) or only the latest. */
  catchUp?: CatchUp
  /** At most this many task runs of this workflow at once. */
  concurrency?: number
}

/**
 * A built workflow: tasks in dependency order, checked.
 * @example
 * const wf: Workflow = workflow('hourly', { partitions: hourly('2026-01-01') }).task('ingest', shellTask('./ingest.sh')).build()
 * wf.tasks.map((t) => t.name) // ['ingest']
 */
export interface Workflow {
  readonly name: string
  readonly tasks: readonly TaskSpec[]
  readonly partitions: PartitionSet
  readonly schedule: Schedule | undefined
  readonly catchUp: CatchUp
  readonly concurrency: number
  task(name: string): TaskSpec
}

/**
 * Builds a workflow: add tasks with `.task()`, then `.build()` checks the graph.
 * @example
 * const builder: WorkflowBuilder = workflow('hourly', { partitions: hourly('2026-01-01') })
 * const wf = builder.task('ingest', shellTask('./ingest.sh')).task('report', fnTask(() => {}), { dependsOn: ['ingest'] }).build()
 */
export class WorkflowBuilder {
  /**
   * The workflow's name: its runs are kept under it in the store.
   * @example workflow('hourly').name // 'hourly'
   */
  readonly name: string
  readonly #opts: WorkflowOptions
  readonly #tasks: TaskSpec[] = []

  constructor(name: string, opts: WorkflowOptions) {
    this.name = name
    this.#opts = opts
  }

  /**
   * Adds a task; `dependsOn` names tasks that must succeed for the same partition first.
   * @example workflow('nightly').task('dump', shellTask('pg_dump shop > out/shop.sql')).task('upload', shellTask('./upload.sh'), { dependsOn: ['dump'] })
   */
  task(name: string, action: TaskAction, opts: TaskOptions = {}): this {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw userError('SLUICE_WORKFLOW_INVALID', `task name '${name}' may hold only letters, digits, '_', '.' and '-'`)
    if (this.#tasks.some((t) => t.name === name)) throw userError('SLUICE_WORKFLOW_INVALID', `workflow '${this.name}' has two tasks named '${name}'`)
    const concurrency = opts.concurrency ?? Infinity
    if (!(concurrency >= 1)) throw userError('SLUICE_WORKFLOW_INVALID', `task '${name}': concurrency must be at least 1`)
    this.#tasks.push({
      name,
      action,
      dependsOn: [...(opts.dependsOn ?? [])],
      retry: { ...defaultRetry, ...opts.retry },
      timeoutMs: opts.timeoutMs,
      concurrency,
      priority: opts.priority ?? 0,
      slaMs: opts.slaMs,
    })
    return this
  }

  /**
   * Checks the graph (unknown dependencies, cycles: both named with their path) and returns the workflow.
   * @example const wf = workflow('nightly').task('dump', shellTask('./dump.sh')).build() // throws on a cycle or an unknown dependency
   */
  build(): Workflow {
    const byName = new Map(this.#tasks.map((t) => [t.name, t]))
    for (const t of this.#tasks) {
      for (const d of t.dependsOn) {
        if (!byName.has(d)) {
          throw userError('SLUICE_WORKFLOW_INVALID', `task '${t.name}' depends on unknown task '${d}' (path: ${this.name} > ${t.name} > ${d})`, { step: t.name, hint: `known tasks: ${[...byName.keys()].join(', ')}` })
        }
      }
    }
    const ordered = topoOrder(this.#tasks, byName)
    const o = this.#opts
    return {
      name: this.name,
      tasks: ordered,
      partitions: o.partitions ?? staticPartitions(['default']),
      schedule: o.schedule,
      catchUp: o.catchUp ?? 'all',
      concurrency: o.concurrency ?? Infinity,
      task: (n) => {
        const t = byName.get(n)
        if (t === undefined) throw userError('SLUICE_WORKFLOW_INVALID', `workflow '${this.name}' has no task '${n}'`)
        return t
      },
    }
  }
}

/** Depth-first order, upstream first; a cycle is reported with its path, e.g. `a -> b -> a`. */
function topoOrder(tasks: readonly TaskSpec[], byName: Map<string, TaskSpec>): TaskSpec[] {
  const done = new Set<string>()
  const out: TaskSpec[] = []
  const visit = (t: TaskSpec, path: string[]): void => {
    if (done.has(t.name)) return
    const at = path.indexOf(t.name)
    if (at >= 0) {
      const cycle = [...path.slice(at), t.name].join(' -> ')
      throw userError('SLUICE_WORKFLOW_CYCLE', `tasks depend on each other in a cycle: ${cycle}`, { step: t.name, hint: 'remove one of these dependencies' })
    }
    for (const d of t.dependsOn) visit(byName.get(d)!, [...path, t.name])
    done.add(t.name)
    out.push(t)
  }
  for (const t of tasks) visit(t, [])
  return out
}

/**
 * Starts a workflow: a DAG of tasks run once per partition, on a schedule.
 * @example
 * export default workflow('hourly-clicks', { partitions: hourly('2026-01-01'), schedule: cron('5 * * * *') })
 *   .task('ingest', shellTask('cp "drop/$SLUICE_PARTITION.jsonl" in/'))
 *   .task('aggregate', pipelineTask(({ params }) => pipeline('clicks').from(source.jsonl(`in/${params.partition}.jsonl`)).to(sink.jsonl('out/clicks.jsonl'))), { dependsOn: ['ingest'], retry: { retries: 3 } })
 *   .build()
 */
export function workflow(name: string, opts: WorkflowOptions = {}): WorkflowBuilder {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw userError('SLUICE_WORKFLOW_INVALID', `workflow name '${name}' may hold only letters, digits, '_', '.' and '-'`)
  return new WorkflowBuilder(name, opts)
}
