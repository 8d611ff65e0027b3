import { hostname } from 'node:os'
import { SluiceError } from '../core/errors.ts'
import { systemWorkflowClock, type WorkflowClock } from './clock.ts'
import { executeTask } from './execute.ts'
import { WorkflowLineage, type WorkflowLineageOptions } from './lineage.ts'
import { stopLeftOver } from './process-group.ts'
import { backoffDelay } from './retry.ts'
import { dueTicks } from './schedule.ts'
import type { RunRow, RunStatus, WorkflowStore } from './store.ts'
import type { TaskAction, TaskContext, TaskSpec } from './task.ts'
import type { Workflow } from './workflow.ts'

/**
 * What a scheduler tells as it goes (for progress, metrics and tests).
 * @example new Scheduler(wf, { store, onEvent: (e: WorkflowEvent) => { if (e.type === 'run-failed') console.error(e.task, e.partition, e.error) } })
 */
export type WorkflowEvent =
  | { type: 'run-started'; task: string; partition: string; attempt: number; queuedMs: number }
  | { type: 'run-succeeded'; task: string; partition: string; attempt: number; durationMs: number }
  | { type: 'run-failed'; task: string; partition: string; attempt: number; durationMs: number; error: string; retryInMs: number | undefined }
  | { type: 'run-cancelled'; task: string; partition: string; attempt: number; durationMs: number }
  | { type: 'runs-interrupted'; count: number }
  | { type: 'process-stopped'; task: string; partition: string; pid: number }
  | { type: 'sla-missed'; task: string; partition: string; slaMs: number; lateMs: number }

/**
 * A limit shared by several schedulers in one process (the global concurrency limit).
 * @example
 * const slots = new Slots(4) // at most 4 task runs at once over every scheduler given it
 * const scheduler = new Scheduler(wf, { store, global: slots })
 */
export class Slots {
  /**
   * How many task runs may go at once over all the schedulers sharing these slots.
   * @example new Slots(4).limit // 4
   */
  readonly limit: number
  /**
   * Task runs going now.
   * @example const slots = new Slots(4); slots.inUse // 0 until a task run starts
   */
  inUse = 0
  constructor(limit: number) {
    this.limit = limit
  }
}

/**
 * How a `Scheduler` runs a workflow: the store of its runs (required), its clock, retry jitter, a concurrency
 * limit shared with other schedulers, the partition order, an event listener and lineage.
 * @example new Scheduler(wf, { store: new WorkflowStore('state/workflows.sqlite'), order: 'newest-first' })
 */
export interface SchedulerOptions {
  /** Where runs and their history are kept. */
  store: WorkflowStore
  /** The scheduler's time; default the system clock (tests pass a `VirtualClock`). */
  clock?: WorkflowClock
  /** [0, 1) for the retries' jitter. */
  random?: () => number
  /** Shared by every scheduler of the process; default unlimited. */
  global?: Slots
  /** Which partitions go first among runs of equal priority. */
  order?: 'oldest-first' | 'newest-first'
  onEvent?: (e: WorkflowEvent) => void
  /** How an attempt runs (tests replace it). */
  execute?: (action: TaskAction, ctx: TaskContext) => Promise<void>
  /** OpenLineage events of the workflow runs and task runs (and of the pipelines tasks run). */
  lineage?: WorkflowLineageOptions
  /** How often a draining scheduler looks in the store for cancels asked by another process. Default 500 ms. */
  cancelPollMs?: number
}

/**
 * How many runs of the partitions a drain looked at ended in each status.
 * @example const { succeeded, failed } = await new Scheduler(wf, { store }).drain() // DrainSummary: runs per status
 */
export type DrainSummary = Record<RunStatus, number>

/** How long a cancelled or timed-out attempt may take to stop before its outcome is recorded anyway. */
const STOP_GRACE_MS = 10_000

const STATUSES: RunStatus[] = ['pending', 'running', 'retrying', 'succeeded', 'failed', 'upstream_failed', 'cancelled']

/**
 * Runs a workflow's (task, partition) runs against a durable store: each run goes once to success, upstream
 * tasks first, within the concurrency limits, by priority, retried with backoff on failure. One process's
 * schedulers per store at a time: another process's fails with SLUICE_WORKFLOW_LOCKED (see
 * WorkflowStore.lockForScheduler). A running run is cancelled through the store (`cancel`), from any process.
 * @example
 * const s = new Scheduler(wf, { store: new WorkflowStore('state/workflows.db') })
 * s.recover()
 * s.enqueue(wf.partitions.range('2026-01-01', '2026-01-07'))
 * const summary = await s.drain()
 */
export class Scheduler {
  /**
   * The workflow this scheduler runs.
   * @example new Scheduler(wf, { store }).workflow.name // wf.name
   */
  readonly workflow: Workflow
  readonly #store: WorkflowStore
  readonly #clock: WorkflowClock
  readonly #random: () => number
  readonly #global: Slots
  readonly #order: 'oldest-first' | 'newest-first'
  readonly #emit: (e: WorkflowEvent) => void
  readonly #execute: (action: TaskAction, ctx: TaskContext) => Promise<void>
  readonly #lineage: WorkflowLineage | undefined
  readonly #cancelPollMs: number
  /** The cancel switch of each running attempt, by task and partition. */
  readonly #cancels = new Map<string, AbortController>()

  constructor(wf: Workflow, opts: SchedulerOptions) {
    this.workflow = wf
    this.#store = opts.store
    this.#clock = opts.clock ?? systemWorkflowClock
    this.#random = opts.random ?? Math.random
    this.#global = opts.global ?? new Slots(Infinity)
    this.#order = opts.order ?? 'oldest-first'
    this.#emit = opts.onEvent ?? (() => {})
    this.#execute = opts.execute ?? executeTask
    this.#lineage = opts.lineage !== undefined ? new WorkflowLineage(wf.name, opts.lineage, () => this.#clock.now()) : undefined
    this.#cancelPollMs = opts.cancelPollMs ?? 500
  }

  /**
   * Cancels runs: queued ones at once, running ones by asking their scheduler (this one or another
   * process's) to stop them; they end `cancelled` and are never retried. Returns the counts.
   * @example scheduler.cancel([{ task: 'aggregate', partition: '2026-01-01T10' }]) // { queued: 0, running: 1 }
   */
  cancel(runs: readonly { task: string; partition: string }[]): { queued: number; running: number } {
    const queued = this.#store.setStatus(this.workflow.name, runs, 'cancelled', ['pending', 'retrying'], this.#clock.now())
    const running = this.#store.requestCancel(this.workflow.name, runs)
    this.#applyCancels()
    return { queued, running }
  }

  /**
   * Applies the recovery rule to runs a previous scheduler left running (see WorkflowStore.recoverInterrupted),
   * after stopping (SIGKILL) the process group a shell task of theirs still runs on this host, so that an
   * attempt never runs beside its retry.
   * @example const s = new Scheduler(wf, { store }); s.recover() // the runs a killed scheduler left running, queued again
   */
  recover(): number {
    this.#store.lockForScheduler()
    const host = hostname()
    for (const r of this.#store.runs(this.workflow.name, { statuses: ['running'] })) {
      if (r.pid === null || r.host !== host) continue
      if (stopLeftOver(r.pid, { workflow: r.workflow, task: r.task, partition: r.partition, attempt: r.attempts })) {
        this.#emit({ type: 'process-stopped', task: r.task, partition: r.partition, pid: r.pid })
      }
    }
    const n = this.#store.recoverInterrupted(this.workflow.name, this.#clock.now())
    if (n > 0) this.#emit({ type: 'runs-interrupted', count: n })
    return n
  }

  /**
   * Queues every task for these partitions (runs that exist are kept: a run is idempotent per (task, partition)).
   * @example scheduler.enqueue(wf.partitions.range('2026-01-01', '2026-01-07')) // a backfill of one week
   */
  enqueue(partitions: readonly string[]): number {
    for (const p of partitions) if (!this.workflow.partitions.has(p) && !this.#isTickKey(p)) this.workflow.partitions.bounds(p)
    return this.#store.enqueue(this.workflow.name, this.workflow.tasks.map((t) => t.name), partitions, this.#clock.now())
  }

  /**
   * Queues what is due at the current time: complete time partitions (or, with a schedule and no time
   * partitions, one partition per tick), applying the catch-up policy to those missed since the last call.
   * @example const queued = scheduler.materialize() // the partitions that became due since the last call
   */
  materialize(): string[] {
    const wf = this.workflow
    const now = this.#clock.now()
    const lastRaw = this.#store.getState(wf.name, 'materialized')
    let keys: string[]
    // How far the schedule is queued moves in the same transaction as the runs it queues.
    let mark: { key: string; value: string } | undefined
    if (wf.partitions.kind !== 'static') {
      const all = wf.partitions.keysUntil(now)
      const fresh = lastRaw === undefined ? all : all.filter((k) => k > lastRaw)
      keys = wf.catchUp === 'latest' ? fresh.slice(-1) : fresh
      if (all.length > 0) mark = { key: 'materialized', value: all[all.length - 1]! }
    } else if (wf.schedule !== undefined) {
      const last = lastRaw === undefined ? now - 1 : Date.parse(lastRaw)
      const ticks = dueTicks(wf.schedule, last, now, wf.catchUp)
      keys = ticks.map((t) => new Date(t).toISOString())
      const newest = ticks.length > 0 ? ticks[ticks.length - 1]! : lastRaw === undefined ? now - 1 : undefined
      if (newest !== undefined) mark = { key: 'materialized', value: new Date(newest).toISOString() }
    } else {
      keys = wf.partitions.keysUntil(now)
    }
    this.#store.enqueue(wf.name, wf.tasks.map((t) => t.name), keys, now, mark)
    return keys
  }

  /**
   * Serves the schedule until `signal` aborts: queue what is due, run it, sleep until the next tick.
   * @example
   * const stop = new AbortController(); process.once('SIGTERM', () => stop.abort())
   * await scheduler.serve(stop.signal)
   */
  async serve(signal: AbortSignal): Promise<void> {
    this.recover()
    while (!signal.aborted) {
      this.materialize()
      await this.drain({ signal })
      const now = this.#clock.now()
      const next = this.workflow.schedule?.next(now) ?? now + 60_000
      await this.#clock.sleep(next - now, signal)
    }
  }

  /**
   * Runs what is runnable among `partitions` (default: every queued one) until nothing is left to run or to
   * retry; resolves with the count of runs in each status. An abort leaves running runs to `recover`.
   * @example const summary = await scheduler.drain({ partitions: ['2026-01-01'] }) // { succeeded: 3, failed: 0, ... }
   */
  async drain(opts: { partitions?: readonly string[]; signal?: AbortSignal } = {}): Promise<DrainSummary> {
    const wf = this.workflow
    const scope = opts.partitions === undefined ? undefined : new Set(opts.partitions)
    const running = new Map<string, Promise<void>>()
    const perTask = new Map<string, number>()
    const index = new Map(wf.tasks.map((t, i) => [t.name, i]))
    const signal = opts.signal
    this.#store.lockForScheduler()
    for (;;) {
      if (signal?.aborted) break
      this.#applyCancels()
      const now = this.#clock.now()
      // Finished partitions have nothing to run: each loop reads only the partitions with a run to do.
      const runs = this.#store.activeRuns(wf.name).filter((r) => scope === undefined || scope.has(r.partition))
      const byKey = new Map(runs.map((r) => [`${r.task}\u0000${r.partition}`, r]))
      const status = (task: string, partition: string): RunStatus | undefined => byKey.get(`${task}\u0000${partition}`)?.status
      const blocked: { task: string; partition: string }[] = []
      const ready: RunRow[] = []
      for (const r of runs) {
        if (r.status !== 'pending' && r.status !== 'retrying') continue
        const deps = wf.task(r.task).dependsOn.map((d) => status(d, r.partition))
        if (deps.some((s) => s === 'failed' || s === 'upstream_failed' || s === 'cancelled')) blocked.push(r)
        else if (deps.every((s) => s === 'succeeded') && r.notBefore <= now && !running.has(`${r.task}\u0000${r.partition}`)) ready.push(r)
      }
      if (blocked.length > 0) {
        this.#store.setStatus(wf.name, blocked, 'upstream_failed', ['pending', 'retrying'], now)
        this.#lineage?.settle(this.#store.runs(wf.name, { partitions: [...new Set(blocked.map((b) => b.partition))] }))
      }
      const slaDue = this.#checkSlas(runs, now)
      const dir = this.#order === 'newest-first' ? -1 : 1
      ready.sort((a, b) => wf.task(b.task).priority - wf.task(a.task).priority || dir * a.partition.localeCompare(b.partition) || index.get(a.task)! - index.get(b.task)!)
      for (const r of ready) {
        const t = wf.task(r.task)
        if (this.#global.inUse >= this.#global.limit || running.size >= wf.concurrency) break
        if ((perTask.get(t.name) ?? 0) >= t.concurrency) continue
        if (!this.#store.claim(wf.name, r.task, r.partition, now)) continue
        const key = `${r.task}\u0000${r.partition}`
        this.#global.inUse++
        perTask.set(t.name, (perTask.get(t.name) ?? 0) + 1)
        const p = this.#attempt(t, this.#store.run(wf.name, r.task, r.partition)!, signal).finally(() => {
          running.delete(key)
          this.#global.inUse--
          perTask.set(t.name, perTask.get(t.name)! - 1)
        })
        running.set(key, p)
      }
      const waits = runs.filter((r) => r.status === 'retrying' && r.notBefore > now).map((r) => r.notBefore)
      if (running.size === 0 && waits.length === 0 && ready.length === 0) break
      const wake = new AbortController()
      const wakeAt = running.size > 0 ? [...waits, ...slaDue, now + this.#cancelPollMs] : waits
      const sleeps = wakeAt.length > 0 ? [this.#clock.sleep(Math.min(...wakeAt) - now, wake.signal)] : []
      if (running.size === 0 && sleeps.length === 0) {
        await this.#clock.sleep(50, signal) // ready runs wait for slots held by another scheduler of the process
        continue
      }
      await Promise.race([...running.values(), ...sleeps])
      wake.abort()
    }
    await Promise.allSettled(running.values())
    this.#lineage?.settle(this.#store.runs(wf.name))
    await this.#lineage?.flush()
    this.#checkSlas(this.#store.runs(wf.name).filter((r) => scope === undefined || scope.has(r.partition)), this.#clock.now())
    const summary = Object.fromEntries(STATUSES.map((s) => [s, 0])) as DrainSummary
    for (const r of this.#store.runs(wf.name)) if (scope === undefined || scope.has(r.partition)) summary[r.status]++
    return summary
  }

  /**
   * Every status of the workflow's runs, by partition then task.
   * @example scheduler.runs().filter((r) => r.status === 'failed').map((r) => r.error)
   */
  runs(): RunRow[] {
    return this.#store.runs(this.workflow.name)
  }

  /**
   * Raises `sla-missed` (once per run, remembered in the store) for runs not succeeded within their task's SLA,
   * or that succeeded late; returns the deadlines still ahead, so the scheduler wakes up for them.
   */
  #checkSlas(runs: readonly RunRow[], now: number): number[] {
    const ahead: number[] = []
    for (const r of runs) {
      const sla = this.workflow.task(r.task).slaMs
      if (sla === undefined || r.status === 'cancelled') continue
      const deadline = r.queuedAt + sla
      const doneAt = r.status === 'succeeded' ? (r.endedAt ?? now) : now
      if (r.status === 'succeeded' ? doneAt <= deadline : doneAt < deadline) {
        if (r.status !== 'succeeded') ahead.push(deadline)
        continue
      }
      const key = `sla-missed ${r.task} ${r.partition}`
      if (this.#store.getState(this.workflow.name, key) !== undefined) continue
      this.#store.setState(this.workflow.name, key, String(now))
      this.#emit({ type: 'sla-missed', task: r.task, partition: r.partition, slaMs: sla, lateMs: doneAt - deadline })
    }
    return ahead
  }

  #isTickKey(p: string): boolean {
    return this.workflow.schedule !== undefined && this.workflow.partitions.kind === 'static' && Number.isFinite(Date.parse(p))
  }

  async #attempt(task: TaskSpec, run: RunRow, outer: AbortSignal | undefined): Promise<void> {
    const started = this.#clock.now()
    const params = this.#params(run.partition)
    this.#emit({ type: 'run-started', task: task.name, partition: run.partition, attempt: run.attempts, queuedMs: started - run.queuedAt })
    this.#lineage?.taskStarted(task.name, run.partition, run.attempts, params)
    const ac = new AbortController()
    const cancel = new AbortController()
    const key = `${task.name}\u0000${run.partition}`
    this.#cancels.set(key, cancel)
    const onOuter = (): void => ac.abort()
    outer?.addEventListener('abort', onOuter, { once: true })
    const ctx: TaskContext = {
      workflow: this.workflow.name,
      task: task.name,
      partition: run.partition,
      params,
      attempt: run.attempts,
      signal: ac.signal,
      now: () => this.#clock.now(),
      sleep: (ms) => this.#clock.sleep(ms, ac.signal),
      runStatus: (w, t, p) => this.#store.run(w, t, p)?.status,
      startedProcess: (pgid) => this.#store.setProcess(this.workflow.name, task.name, run.partition, pgid, hostname()),
      ...(this.#lineage !== undefined ? { lineage: this.#lineage.target } : {}),
    }
    const timedOut = Symbol('timeout')
    const cancelled = Symbol('cancelled')
    const timer = new AbortController()
    const execution = this.#execute(task.action, ctx).then(() => undefined, (e: unknown) => e ?? new Error('task failed'))
    const racers: Promise<unknown>[] = [
      execution,
      new Promise((resolve) => cancel.signal.addEventListener('abort', () => resolve(cancelled), { once: true })),
    ]
    if (task.timeoutMs !== undefined) racers.push(this.#clock.sleep(task.timeoutMs, timer.signal).then(() => timedOut))
    const result = await Promise.race(racers)
    timer.abort()
    this.#cancels.delete(key)
    outer?.removeEventListener('abort', onOuter)
    if (outer?.aborted && result !== cancelled) return // left running: the next scheduler's recover() queues it again
    const ended = this.#clock.now()
    const runs = (): RunRow[] => this.#store.runs(this.workflow.name, { partitions: [run.partition] })
    if (result === undefined) {
      this.#store.finish(run, 'succeeded', ended, null, undefined)
      this.#emit({ type: 'run-succeeded', task: task.name, partition: run.partition, attempt: run.attempts, durationMs: ended - started })
      this.#lineage?.taskEnded(task.name, run.partition, run.attempts, 'COMPLETE')
      this.#lineage?.settle(runs())
      return
    }
    if (result === cancelled) {
      await this.#stop(ac, execution)
      this.#store.finish(run, 'cancelled', this.#clock.now(), 'cancelled', undefined)
      this.#emit({ type: 'run-cancelled', task: task.name, partition: run.partition, attempt: run.attempts, durationMs: ended - started })
      this.#lineage?.taskEnded(task.name, run.partition, run.attempts, 'ABORT')
      this.#lineage?.settle(runs())
      return
    }
    if (result === timedOut) await this.#stop(ac, execution)
    const error = result === timedOut ? `timed out after ${task.timeoutMs} ms` : describe(result)
    const failures = run.failures + 1
    const retryIn = failures <= task.retry.retries ? backoffDelay(task.retry, failures, this.#random) : undefined
    this.#store.finish(run, result === timedOut ? 'timed_out' : 'failed', ended, error, retryIn === undefined ? undefined : ended + retryIn)
    this.#emit({ type: 'run-failed', task: task.name, partition: run.partition, attempt: run.attempts, durationMs: ended - started, error, retryInMs: retryIn })
    this.#lineage?.taskEnded(task.name, run.partition, run.attempts, 'FAIL', error)
    this.#lineage?.settle(runs())
  }

  /**
   * Aborts an attempt and waits until its work stopped (a pipeline stopped, a command's process group gone), or
   * for a grace for a function that does not watch its signal: so that a retry never runs beside it.
   */
  async #stop(ac: AbortController, execution: Promise<unknown>): Promise<void> {
    ac.abort()
    const grace = new AbortController()
    await Promise.race([execution, this.#clock.sleep(STOP_GRACE_MS, grace.signal)])
    grace.abort()
  }

  /** Stops the attempts of this scheduler that a cancel was asked for (by this process or another). */
  #applyCancels(): void {
    if (this.#cancels.size === 0) return
    for (const r of this.#store.cancelRequested(this.workflow.name)) this.#cancels.get(`${r.task}\u0000${r.partition}`)?.abort()
  }

  #params(partition: string): Record<string, string> {
    const params: Record<string, string> = { partition }
    if (this.#isTickKey(partition)) {
      params.start = partition
      return params
    }
    const b = this.workflow.partitions.bounds(partition)
    if (b.start !== undefined) params.start = new Date(b.start).toISOString()
    if (b.end !== undefined) params.end = new Date(b.end).toISOString()
    return params
  }
}

/** A failure's message for the history: the error's code and message only (never data it may carry). */
function describe(e: unknown): string {
  if (e instanceof SluiceError) return `${e.code}: ${e.message}`
  if (e instanceof Error) return e.message
  return String(e)
}
