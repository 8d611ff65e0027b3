import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { toYaml } from '../../observe/slo/yaml.ts'
import { WorkflowMetrics } from '../../workflow/metrics.ts'
import { workflowRules } from '../../workflow/rules.ts'
import { Scheduler, Slots, type WorkflowEvent } from '../../workflow/scheduler.ts'
import { WorkflowStore, type RunRow, type RunStatus } from '../../workflow/store.ts'
import type { Workflow } from '../../workflow/workflow.ts'
import type { CliContext, Command, ParsedArgs } from '../command.ts'
import { positiveIntFlag, UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { loadWorkflow } from './workflow-load.ts'

const SUBCOMMANDS = ['run', 'backfill', 'status', 'history', 'retry', 'cancel', 'graph', 'rules'] as const
type Sub = (typeof SUBCOMMANDS)[number]

export const workflowCommand: Command = {
  name: 'workflow',
  summary: 'run, backfill and inspect a workflow of tasks over partitions',
  usage: 'sluice workflow run|backfill|status|history|retry|cancel|graph|rules <workflow.ts> [flags]',
  description: [
    'A workflow module default-exports workflow(name)...: tasks (pipelines, functions, shell commands) with',
    'dependencies, run once per partition. Runs and their history live in --store (default',
    '.sluice/workflows.db): a run that succeeded never runs again, and runs a killed scheduler left running',
    'are queued again when the next one starts (a shell command it left running is stopped first). Ctrl-C or',
    'SIGTERM stops the running attempts (a shell command with all it started); the next scheduler runs them again.',
    '  run       queue what is due now and run it (--serve: keep following the schedule until Ctrl-C)',
    '  backfill  run every task over --from..--to (--newest-first, --concurrency, --dry-run lists what would run)',
    '  status    the partition grid: one row per partition, one column per task',
    '  history   the attempts, newest first',
    '  retry     queue failed, cancelled and upstream-failed runs again, and run them',
    '  cancel    cancel queued runs, and stop running ones (they end cancelled, never retried)',
    '  graph     the tasks and their dependencies',
    '  rules     Prometheus rules for the metrics of --metrics-port: p95 queue time and duration per task, an',
    '            alert (page) when a task misses its SLA, one (ticket) when a task fails for good (YAML)',
    'One scheduler process per store: a second one refuses, naming the first (pid and host).',
  ].join('\n'),
  positionals: { min: 2, max: 2, names: 'a subcommand and the workflow module' },
  flags: [
    { name: 'store', type: 'string', placeholder: 'FILE', description: 'the run store (default .sluice/workflows.db)' },
    { name: 'from', type: 'string', placeholder: 'PARTITION', description: 'first partition of the range (backfill, retry, cancel, status)' },
    { name: 'to', type: 'string', placeholder: 'PARTITION', description: 'last partition of the range, included (default: --from)' },
    { name: 'task', type: 'string', multiple: true, placeholder: 'NAME', description: 'only these tasks (retry, cancel, history)' },
    { name: 'concurrency', type: 'string', placeholder: 'N', description: 'at most N task runs at once' },
    { name: 'newest-first', type: 'boolean', description: 'backfill the newest partitions first' },
    { name: 'dry-run', type: 'boolean', description: 'backfill: list what would run, run nothing' },
    { name: 'serve', type: 'boolean', description: 'run: keep following the schedule until Ctrl-C' },
    { name: 'limit', type: 'string', placeholder: 'N', description: 'history: at most N attempts (default 50)' },
    { name: 'lineage', type: 'string', placeholder: 'TARGET', description: 'OpenLineage events of workflow, task and pipeline runs to a .ndjson file, http(s)://, or console (default $SLUICE_LINEAGE)' },
    { name: 'metrics-port', type: 'string', placeholder: 'PORT', description: 'run, backfill, retry: serve /metrics (Prometheus) on this port while running' },
    { name: 'out', short: 'o', type: 'string', placeholder: 'FILE', description: 'rules: write to FILE instead of stdout' },
    { name: 'json', type: 'boolean', description: 'print JSON' },
  ],
  examples: [
    'sluice workflow graph examples/workflow-hourly/workflow.ts',
    'sluice workflow backfill examples/workflow-hourly/workflow.ts --from 2026-01-01T00 --to 2026-01-07T23 --concurrency 4',
    'sluice workflow status examples/workflow-hourly/workflow.ts --from 2026-01-01T00 --to 2026-01-01T23',
  ],

  async run(args, ctx) {
    const sub = args.positionals[0] as Sub
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown subcommand '${sub}' (one of: ${SUBCOMMANDS.join(', ')})`, 'workflow')
    const wf = await loadWorkflow(args.positionals[1]!, ctx.cwd)
    if (sub === 'graph') return graph(wf, args, ctx)
    if (sub === 'rules') {
      const text = toYaml(workflowRules(wf))
      if (typeof args.values.out === 'string') writeFileSync(resolve(ctx.cwd, args.values.out), text)
      else ctx.stdout.write(text)
      return exitCode.ok
    }
    const store = new WorkflowStore(resolve(ctx.cwd, typeof args.values.store === 'string' ? args.values.store : join('.sluice', 'workflows.db')))
    const port = positiveIntFlag(args.values, 'metrics-port', 'workflow')
    let server: { url: string; close(): Promise<void> } | undefined
    try {
      if (port !== undefined && (sub === 'run' || sub === 'backfill' || sub === 'retry')) {
        const metrics = new WorkflowMetrics(wf.name, store)
        METRICS.set(args, metrics)
        server = await metrics.serve(port)
        ctx.stderr.write(`metrics on ${server.url}/metrics\n`)
      }
      return await ACTIONS[sub](wf, store, args, ctx)
    } finally {
      await server?.close()
      store.close()
    }
  },
}

type Action = (wf: Workflow, store: WorkflowStore, args: ParsedArgs, ctx: CliContext) => Promise<number>

const ACTIONS: Record<Exclude<Sub, 'graph' | 'rules'>, Action> = {
  async run(wf, store, args, ctx) {
    const s = scheduler(wf, store, args, ctx)
    if (args.values.serve === true) {
      return untilSignal(async (signal) => {
        await s.serve(signal)
        return exitCode.interrupted
      })
    }
    s.recover()
    s.materialize()
    return untilSignal(async (signal) => finish(await s.drain({ signal }), args, ctx))
  },

  async backfill(wf, store, args, ctx) {
    const partitions = range(wf, args, true)!
    const pending = (): { task: string; partition: string }[] => {
      const done = new Set(store.runs(wf.name, { statuses: ['succeeded'], partitions }).map((r) => `${r.task} ${r.partition}`))
      const order = args.values['newest-first'] === true ? [...partitions].reverse() : partitions
      return order.flatMap((p) => wf.tasks.filter((t) => !done.has(`${t.name} ${p}`)).map((t) => ({ task: t.name, partition: p })))
    }
    if (args.values['dry-run'] === true) {
      const todo = pending()
      if (args.values.json === true) ctx.stdout.write(`${JSON.stringify(todo)}\n`)
      else ctx.stdout.write(`${todo.map((r) => `${r.partition}  ${r.task}`).join('\n')}${todo.length > 0 ? '\n' : ''}would run ${todo.length} task runs over ${partitions.length} partitions\n`)
      return exitCode.ok
    }
    const total = pending().length
    let done = 0
    let failed = 0
    const progress = (e: WorkflowEvent): void => {
      if (e.type === 'run-succeeded') done++
      else if (e.type === 'run-failed' && e.retryInMs === undefined) failed++
      else return
      ctx.stderr.write(`backfill ${wf.name}: ${done}/${total} runs succeeded${failed > 0 ? `, ${failed} failed` : ''}\n`)
    }
    const s = scheduler(wf, store, args, ctx, progress)
    s.recover()
    s.enqueue(partitions)
    return untilSignal(async (signal) => finish(await s.drain({ partitions, signal }), args, ctx))
  },

  async status(wf, store, args, ctx) {
    const partitions = range(wf, args, false)
    const runs = store.runs(wf.name, partitions ? { partitions } : {})
    if (args.values.json === true) {
      ctx.stdout.write(`${JSON.stringify(runs)}\n`)
      return exitCode.ok
    }
    ctx.stdout.write(grid(wf, runs))
    return exitCode.ok
  },

  async history(wf, store, args, ctx) {
    const limit = positiveIntFlag(args.values, 'limit', 'workflow') ?? 50
    const tasks = taskFilter(wf, args)
    const rows = store.history(wf.name).filter((h) => tasks === undefined || tasks.includes(h.task)).slice(0, limit)
    if (args.values.json === true) ctx.stdout.write(`${JSON.stringify(rows)}\n`)
    else for (const h of rows) ctx.stdout.write(`${new Date(h.startedAt).toISOString()}  ${h.partition}  ${h.task}  #${h.attempt}  ${h.outcome}  ${h.endedAt - h.startedAt} ms${h.error ? `  ${h.error}` : ''}\n`)
    return exitCode.ok
  },

  async retry(wf, store, args, ctx) {
    const targets = selected(wf, store, args, ['failed', 'cancelled', 'upstream_failed'])
    const n = store.setStatus(wf.name, targets, 'pending', ['failed', 'cancelled', 'upstream_failed'], Date.now())
    ctx.stderr.write(`queued ${n} runs again\n`)
    const s = scheduler(wf, store, args, ctx)
    s.recover()
    return untilSignal(async (signal) => finish(await s.drain({ partitions: [...new Set(targets.map((t) => t.partition))], signal }), args, ctx))
  },

  async cancel(wf, store, args, ctx) {
    const targets = selected(wf, store, args, ['pending', 'retrying', 'running'])
    const n = new Scheduler(wf, { store }).cancel(targets)
    ctx.stdout.write(`cancelled ${n.queued} runs${n.running > 0 ? `, asked the scheduler to stop ${n.running} running` : ''}\n`)
    return exitCode.ok
  },
}

function graph(wf: Workflow, args: ParsedArgs, ctx: CliContext): Promise<number> {
  if (args.values.json === true) {
    ctx.stdout.write(`${JSON.stringify({ name: wf.name, tasks: wf.tasks.map((t) => ({ name: t.name, kind: t.action.kind, dependsOn: t.dependsOn })) })}\n`)
  } else {
    ctx.stdout.write(`workflow ${wf.name}: ${wf.partitions.kind} partitions${wf.schedule ? `, ${wf.schedule.description}` : ''}\n`)
    for (const t of wf.tasks) ctx.stdout.write(`  ${t.name} (${t.action.kind})${t.dependsOn.length > 0 ? ` <- ${t.dependsOn.join(', ')}` : ''}\n`)
  }
  return Promise.resolve(exitCode.ok)
}

/** The metrics of a command run with --metrics-port. */
const METRICS = new WeakMap<ParsedArgs, WorkflowMetrics>()

function scheduler(wf: Workflow, store: WorkflowStore, args: ParsedArgs, ctx: CliContext, onEvent?: (e: WorkflowEvent) => void): Scheduler {
  const metrics = METRICS.get(args)
  const concurrency = positiveIntFlag(args.values, 'concurrency', 'workflow')
  const lineage = typeof args.values.lineage === 'string' ? args.values.lineage : process.env.SLUICE_LINEAGE
  let lineageFailed = false
  return new Scheduler(wf, {
    store,
    ...(lineage !== undefined && lineage !== ''
      ? { lineage: { transport: lineage, onError: (e: unknown) => { if (!lineageFailed) ctx.stderr.write(`lineage events cannot be sent (${e instanceof Error ? e.message : String(e)}); the workflow goes on\n`); lineageFailed = true } } }
      : {}),
    order: args.values['newest-first'] === true ? 'newest-first' : 'oldest-first',
    ...(concurrency !== undefined ? { global: new Slots(concurrency) } : {}),
    onEvent: (e) => {
      metrics?.observe(e)
      if (e.type === 'process-stopped') ctx.stderr.write(`${e.task} ${e.partition}: stopped the command (process group ${e.pid}) a killed scheduler left running\n`)
      if (e.type === 'run-cancelled') ctx.stderr.write(`${e.task} ${e.partition} attempt ${e.attempt} cancelled\n`)
      if (e.type === 'run-failed') ctx.stderr.write(`${e.task} ${e.partition} attempt ${e.attempt} failed: ${e.error}${e.retryInMs !== undefined ? ` (retry in ${e.retryInMs} ms)` : ''}\n`)
      onEvent?.(e)
    },
  })
}

/**
 * Runs `body` with a signal that Ctrl-C or SIGTERM aborts: running attempts are stopped (a shell task's process
 * group too) and left to the recovery rule of the next scheduler; the exit code then says which signal it was.
 */
async function untilSignal(body: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const ac = new AbortController()
  let got: NodeJS.Signals | undefined
  const on = (sig: NodeJS.Signals) => (): void => {
    got ??= sig
    ac.abort()
  }
  const onInt = on('SIGINT')
  const onTerm = on('SIGTERM')
  process.once('SIGINT', onInt)
  process.once('SIGTERM', onTerm)
  try {
    const code = await body(ac.signal)
    return got === 'SIGTERM' ? exitCode.terminated : got === 'SIGINT' ? exitCode.interrupted : code
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
  }
}

function range(wf: Workflow, args: ParsedArgs, required: boolean): string[] | undefined {
  const from = args.values.from
  if (typeof from !== 'string') {
    if (required) throw new UsageError('give the partitions with --from (and --to)', 'workflow')
    return undefined
  }
  return wf.partitions.range(from, typeof args.values.to === 'string' ? args.values.to : from)
}

function taskFilter(wf: Workflow, args: ParsedArgs): string[] | undefined {
  const t = args.values.task
  if (!Array.isArray(t)) return undefined
  for (const name of t) wf.task(name)
  return t
}

function selected(wf: Workflow, store: WorkflowStore, args: ParsedArgs, statuses: RunStatus[]): RunRow[] {
  const partitions = range(wf, args, false)
  const tasks = taskFilter(wf, args)
  return store.runs(wf.name, { statuses, ...(partitions ? { partitions } : {}) }).filter((r) => tasks === undefined || tasks.includes(r.task))
}

function finish(summary: Record<RunStatus, number>, args: ParsedArgs, ctx: CliContext): number {
  if (args.values.json === true) ctx.stdout.write(`${JSON.stringify(summary)}\n`)
  else ctx.stdout.write(`${Object.entries(summary).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ') || 'nothing to run'}\n`)
  return summary.failed > 0 || summary.upstream_failed > 0 ? exitCode.userError : exitCode.ok
}

const CELL: Record<RunStatus, string> = { pending: '.', running: 'R', retrying: 'r', succeeded: '#', failed: 'X', upstream_failed: '-', cancelled: 'c' }

/** Rows partitions, columns tasks, one character per run; a legend below. */
function grid(wf: Workflow, runs: readonly RunRow[]): string {
  const byPartition = new Map<string, Map<string, RunStatus>>()
  for (const r of runs) {
    let m = byPartition.get(r.partition)
    if (m === undefined) byPartition.set(r.partition, (m = new Map()))
    m.set(r.task, r.status)
  }
  const width = Math.max(9, ...[...byPartition.keys()].map((p) => p.length))
  const lines = [`${'partition'.padEnd(width)}  ${wf.tasks.map((t) => t.name).join(' ')}`]
  for (const [p, m] of [...byPartition].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${p.padEnd(width)}  ${wf.tasks.map((t) => { const s = m.get(t.name); return (s ? CELL[s] : ' ').padEnd(t.name.length) }).join(' ')}`)
  }
  lines.push('', `# succeeded  X failed  - upstream failed  . queued  r retrying  R running  c cancelled`)
  return `${lines.join('\n')}\n`
}
