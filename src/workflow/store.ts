import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { createRequire } from 'node:module'
import type { DatabaseSync } from 'node:sqlite'
import { SluiceError } from '../core/errors.ts'
import { lockFileSync } from '../core/folder-lock.ts'

/**
 * The state of one (task, partition) run. `upstream_failed`: a task it depends on failed for good.
 * @example store.runs('hourly', { statuses: ['failed', 'upstream_failed'] }).map((r) => `${r.task} ${r.partition}`)
 */
export type RunStatus = 'pending' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'upstream_failed' | 'cancelled'

/**
 * One (task, partition) run as the store holds it: its status, attempts and times (epoch ms).
 * @example const failed = store.runs('hourly', { statuses: ['failed'] }).map((r) => `${r.task} ${r.partition}`)
 */
export interface RunRow {
  workflow: string
  task: string
  partition: string
  status: RunStatus
  /** Attempts started, interrupted ones included. */
  attempts: number
  /** Attempts that failed (they count against the retries; interrupted ones do not). */
  failures: number
  notBefore: number
  queuedAt: number
  startedAt: number | null
  endedAt: number | null
  error: string | null
  /** A cancel was asked for while it ran: its scheduler stops it and records it `cancelled`. */
  cancelRequested: boolean
  /** The process group a running attempt started (a shell task's command), and the host it runs on. */
  pid: number | null
  host: string | null
}

/**
 * One attempt of a run, newest first in `WorkflowStore.history`: how it ended, when, and its error.
 * @example const last = store.history('hourly', { task: 'ingest', limit: 1 })[0]?.outcome
 */
export interface HistoryRow {
  workflow: string
  task: string
  partition: string
  attempt: number
  outcome: 'succeeded' | 'failed' | 'interrupted' | 'timed_out' | 'cancelled'
  startedAt: number
  endedAt: number
  error: string | null
}

/**
 * Run state and history of workflows in one SQLite file (WAL, synchronous=FULL): each state change is one
 * transaction, so a scheduler killed at any moment finds every run either before or after a change.
 * @example
 * const store = new WorkflowStore('state/workflows.db')
 * store.runs('hourly', { statuses: ['failed'] }); store.close()
 */
export class WorkflowStore {
  readonly #db: DatabaseSync
  readonly #path: string
  #unlock: (() => void) | undefined

  constructor(path: string) {
    this.#path = path
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
      // Loaded on first use: on Node 22 `node:sqlite` prints an experimental warning, which only workflow
      // commands should pay, not every `sluice` run that loads the CLI.
      const sqlite = createRequire(import.meta.url)('node:sqlite') as typeof import('node:sqlite')
      this.#db = new sqlite.DatabaseSync(path)
      this.#db.exec(`
        PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
        CREATE TABLE IF NOT EXISTS runs (workflow TEXT NOT NULL, task TEXT NOT NULL, partition TEXT NOT NULL,
          status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
          not_before INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER,
          error TEXT, PRIMARY KEY (workflow, task, partition));
        CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY AUTOINCREMENT, workflow TEXT NOT NULL,
          task TEXT NOT NULL, partition TEXT NOT NULL, attempt INTEGER NOT NULL, outcome TEXT NOT NULL,
          started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, error TEXT);
        CREATE TABLE IF NOT EXISTS scheduler (workflow TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
          PRIMARY KEY (workflow, key));
        CREATE INDEX IF NOT EXISTS runs_by_status ON runs (workflow, status, partition);
        CREATE INDEX IF NOT EXISTS runs_by_partition ON runs (workflow, partition);`)
      const columns = this.#db.prepare(`PRAGMA table_info(runs)`).all() as { name: string }[]
      if (!columns.some((c) => c.name === 'cancel_requested')) this.#db.exec(`ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0`)
      if (!columns.some((c) => c.name === 'pid')) this.#db.exec(`ALTER TABLE runs ADD COLUMN pid INTEGER; ALTER TABLE runs ADD COLUMN host TEXT`)
    } catch (e) {
      throw new SluiceError('SLUICE_WORKFLOW_STORE', `cannot open the workflow store`, { cause: e, hint: 'check that the folder is writable' })
    }
  }

  /**
   * Takes the store for this process's schedulers (a `<store>.lock` file with our pid and host): a scheduler of
   * another process on the same store fails with SLUICE_WORKFLOW_LOCKED naming the holder. A lock left by a
   * process of this host that no longer runs (killed) is taken over. Released by `close`; schedulers of one
   * process share it.
   * @example const store = new WorkflowStore('state/workflows.db'); store.lockForScheduler() // SLUICE_WORKFLOW_LOCKED if another process holds it
   */
  lockForScheduler(): void {
    if (this.#unlock !== undefined || this.#path === ':memory:') return
    const lockPath = `${this.#path}.lock`
    try {
      this.#unlock = lockFileSync(lockPath, (by) =>
        new SluiceError('SLUICE_WORKFLOW_LOCKED', `the workflow store is in use by the scheduler of ${by}`, {
          domain: 'user',
          retryable: true,
          hint: `stop that scheduler first, or give this one another --store; if that process is gone (another host), remove '${lockPath}'`,
        }))
    } catch (e) {
      if (e instanceof SluiceError) throw e
      throw new SluiceError('SLUICE_WORKFLOW_STORE', `cannot take the workflow store's lock`, { cause: e, hint: 'check that the folder is writable' })
    }
  }

  /**
   * The workflows that have runs in the store, by name.
   * @example store.workflows() // ['daily-report', 'hourly']
   */
  workflows(): string[] {
    return (this.#db.prepare('SELECT DISTINCT workflow FROM runs ORDER BY workflow').all() as { workflow: string }[]).map((r) => r.workflow)
  }

  /**
   * Queues a run of every given task for every partition; runs that exist already are left as they are. `mark`
   * sets a scheduler state value in the same transaction (how far the schedule was queued), so a scheduler
   * killed in between never finds the mark moved on without the runs queued.
   * @example store.enqueue('hourly', ['ingest', 'aggregate'], ['2026-01-01T10'], Date.now()) // 2 runs queued
   */
  enqueue(workflow: string, tasks: readonly string[], partitions: readonly string[], now: number, mark?: { key: string; value: string }): number {
    const ins = this.#db.prepare(`INSERT OR IGNORE INTO runs (workflow, task, partition, status, queued_at) VALUES (?, ?, ?, 'pending', ?)`)
    let added = 0
    this.#tx(() => {
      for (const p of partitions) for (const t of tasks) added += Number(ins.run(workflow, t, p, now).changes)
      if (mark !== undefined) this.setState(workflow, mark.key, mark.value)
    })
    return added
  }

  /**
   * The runs of a workflow, by partition then task, optionally only those of some statuses or partitions.
   * @example store.runs('hourly', { statuses: ['failed', 'upstream_failed'] })
   */
  runs(workflow: string, filter: { statuses?: readonly RunStatus[]; partitions?: readonly string[] } = {}): RunRow[] {
    // The filters are lists passed as one JSON parameter each (no limit on their length, one statement).
    const where = ['workflow = ?']
    const params: string[] = [workflow]
    if (filter.statuses !== undefined) {
      where.push('status IN (SELECT value FROM json_each(?))')
      params.push(JSON.stringify(filter.statuses))
    }
    if (filter.partitions !== undefined) {
      where.push('partition IN (SELECT value FROM json_each(?))')
      params.push(JSON.stringify(filter.partitions))
    }
    const rows = this.#db.prepare(`SELECT * FROM runs WHERE ${where.join(' AND ')} ORDER BY partition, task`).all(...params) as Record<string, unknown>[]
    return rows.map(toRun)
  }

  /**
   * Every run of the partitions that still have a run to do (pending, retrying or running), by partition then
   * task: what a scheduler's loop looks at, however long the workflow's history of finished partitions.
   * @example const todo = store.activeRuns('hourly').filter((r) => r.status === 'pending')
   */
  activeRuns(workflow: string): RunRow[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM runs WHERE workflow = ?1 AND partition IN
           (SELECT partition FROM runs WHERE workflow = ?1 AND status IN ('pending', 'retrying', 'running'))
         ORDER BY partition, task`,
      )
      .all(workflow) as Record<string, unknown>[]
    return rows.map(toRun)
  }

  /**
   * How many runs of the workflow are in each status (statuses without runs are left out).
   * @example store.statusCounts('hourly').get('failed') ?? 0
   */
  statusCounts(workflow: string): Map<RunStatus, number> {
    const rows = this.#db.prepare(`SELECT status, COUNT(*) AS n FROM runs WHERE workflow = ? GROUP BY status`).all(workflow) as { status: RunStatus; n: number }[]
    return new Map(rows.map((r) => [r.status, Number(r.n)]))
  }

  /**
   * One run, or undefined if the workflow never planned it.
   * @example store.run('hourly', 'ingest', '2024-05-01T10')?.status
   */
  run(workflow: string, task: string, partition: string): RunRow | undefined {
    const row = this.#db.prepare(`SELECT * FROM runs WHERE workflow = ? AND task = ? AND partition = ?`).get(workflow, task, partition) as Record<string, unknown> | undefined
    return row === undefined ? undefined : toRun(row)
  }

  /**
   * Marks a queued run running; false when another change got there first (it was not runnable any more).
   * @example if (store.claim('hourly', 'ingest', '2026-01-01T10', Date.now())) console.log('ours to run')
   */
  claim(workflow: string, task: string, partition: string, now: number): boolean {
    const r = this.#db
      .prepare(`UPDATE runs SET status = 'running', attempts = attempts + 1, started_at = ?, ended_at = NULL, cancel_requested = 0, pid = NULL, host = NULL WHERE workflow = ? AND task = ? AND partition = ? AND status IN ('pending', 'retrying')`)
      .run(now, workflow, task, partition)
    return r.changes === 1
  }

  /**
   * Notes the process group a running attempt started, so that the next scheduler can stop it should this one die.
   * @example store.setProcess('hourly', 'ingest', '2026-01-01T10', 4242, 'worker-1') // the process group and host of a shell task's attempt
   */
  setProcess(workflow: string, task: string, partition: string, pid: number, host: string): void {
    this.#db.prepare(`UPDATE runs SET pid = ?, host = ? WHERE workflow = ? AND task = ? AND partition = ? AND status = 'running'`).run(pid, host, workflow, task, partition)
  }

  /**
   * Records how a running attempt ended: success, a failure to retry at `retryAt`, or a final failure.
   * @example
   * const run = store.run('hourly', 'ingest', '2026-01-01T10')!
   * store.finish(run, 'failed', Date.now(), 'exit code 1', Date.now() + 30_000) // retried in 30 s
   */
  finish(run: RunRow, outcome: HistoryRow['outcome'], now: number, error: string | null, retryAt: number | undefined): void {
    this.#tx(() => {
      const status: RunStatus = outcome === 'succeeded' ? 'succeeded' : outcome === 'cancelled' ? 'cancelled' : retryAt !== undefined ? 'retrying' : 'failed'
      const r = this.#db
        .prepare(`UPDATE runs SET status = ?, failures = failures + ?, not_before = ?, ended_at = ?, error = ?, cancel_requested = 0 WHERE workflow = ? AND task = ? AND partition = ? AND status = 'running'`)
        .run(status, outcome === 'failed' || outcome === 'timed_out' ? 1 : 0, retryAt ?? 0, now, error, run.workflow, run.task, run.partition)
      if (r.changes !== 1) return
      this.#db
        .prepare(`INSERT INTO history (workflow, task, partition, attempt, outcome, started_at, ended_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(run.workflow, run.task, run.partition, run.attempts, outcome, run.startedAt ?? now, now, error)
    })
  }

  /**
   * The recovery rule: a run still marked running when a scheduler starts was cut off by the end of the last
   * one. Its attempt is recorded as `interrupted` (not counted against the retries) and it is queued again at
   * once, unless a cancel was asked for it: then it is `cancelled`. (`Scheduler.recover` first stops the process
   * group a shell task of that attempt left running.)
   * @example store.recoverInterrupted('hourly', Date.now()) // how many runs were queued again
   */
  recoverInterrupted(workflow: string, now: number): number {
    let n = 0
    this.#tx(() => {
      for (const run of this.runs(workflow, { statuses: ['running'] })) {
        const to = run.cancelRequested ? 'cancelled' : 'retrying'
        this.#db.prepare(`UPDATE runs SET status = ?, not_before = ?, ended_at = ?, cancel_requested = 0 WHERE workflow = ? AND task = ? AND partition = ?`).run(to, now, now, workflow, run.task, run.partition)
        this.#db
          .prepare(`INSERT INTO history (workflow, task, partition, attempt, outcome, started_at, ended_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`)
          .run(workflow, run.task, run.partition, run.attempts, run.cancelRequested ? 'cancelled' : 'interrupted', run.startedAt ?? now, now)
        n++
      }
    })
    return n
  }

  /**
   * Asks the scheduler running these runs to stop them: it aborts each attempt and records it `cancelled`
   * (never retried). Returns how many running runs were asked.
   * @example store.requestCancel('hourly', [{ task: 'aggregate', partition: '2026-01-01T10' }]) // 1 if it was running
   */
  requestCancel(workflow: string, runs: readonly { task: string; partition: string }[]): number {
    let n = 0
    const stmt = this.#db.prepare(`UPDATE runs SET cancel_requested = 1 WHERE workflow = ? AND task = ? AND partition = ? AND status = 'running'`)
    this.#tx(() => {
      for (const r of runs) n += Number(stmt.run(workflow, r.task, r.partition).changes)
    })
    return n
  }

  /**
   * The running runs of a workflow a cancel was asked for.
   * @example for (const r of store.cancelRequested('hourly')) console.log(`stop ${r.task} ${r.partition}`)
   */
  cancelRequested(workflow: string): { task: string; partition: string }[] {
    const rows = this.#db.prepare(`SELECT task, partition FROM runs WHERE workflow = ? AND status = 'running' AND cancel_requested = 1`).all(workflow) as { task: string; partition: string }[]
    return rows.map((r) => ({ task: String(r.task), partition: String(r.partition) }))
  }

  /**
   * Sets runs' status (retry: back to pending; cancel: cancelled), only from the given statuses.
   * @example store.setStatus('hourly', [{ task: 'ingest', partition: '2026-01-01T10' }], 'pending', ['failed'], Date.now()) // a retry by hand
   */
  setStatus(workflow: string, runs: readonly { task: string; partition: string }[], to: RunStatus, from: readonly RunStatus[], now: number): number {
    let n = 0
    const marks = from.map(() => '?').join(', ')
    const stmt = this.#db.prepare(`UPDATE runs SET status = ?, failures = CASE WHEN ? = 'pending' THEN 0 ELSE failures END, not_before = 0, queued_at = ?, error = NULL WHERE workflow = ? AND task = ? AND partition = ? AND status IN (${marks})`)
    this.#tx(() => {
      for (const r of runs) n += Number(stmt.run(to, to, now, workflow, r.task, r.partition, ...from).changes)
    })
    return n
  }

  /**
   * The attempts of a workflow's runs, newest first, optionally of one task or partition and at most `limit`.
   * @example store.history('hourly', { partition: '2024-05-01T10' })
   */
  history(workflow: string, opts: { task?: string; partition?: string; limit?: number } = {}): HistoryRow[] {
    const rows = this.#db.prepare(`SELECT * FROM history WHERE workflow = ? ORDER BY id DESC`).all(workflow) as Record<string, unknown>[]
    return rows
      .map((r) => ({
        workflow: String(r.workflow),
        task: String(r.task),
        partition: String(r.partition),
        attempt: Number(r.attempt),
        outcome: r.outcome as HistoryRow['outcome'],
        startedAt: Number(r.started_at),
        endedAt: Number(r.ended_at),
        error: r.error === null ? null : String(r.error),
      }))
      .filter((h) => (opts.task === undefined || h.task === opts.task) && (opts.partition === undefined || h.partition === opts.partition))
      .slice(0, opts.limit ?? Infinity)
  }

  /**
   * A value a scheduler keeps for a workflow between processes (such as the last partition it queued).
   * @example store.getState('hourly', 'materialized')
   */
  getState(workflow: string, key: string): string | undefined {
    const row = this.#db.prepare(`SELECT value FROM scheduler WHERE workflow = ? AND key = ?`).get(workflow, key) as { value: string } | undefined
    return row?.value
  }

  /**
   * Sets a value that `getState` returns, in the same transaction-per-change store as the runs.
   * @example store.setState('hourly', 'materialized', '2024-05-01T10')
   */
  setState(workflow: string, key: string, value: string): void {
    this.#db.prepare(`INSERT INTO scheduler (workflow, key, value) VALUES (?, ?, ?) ON CONFLICT (workflow, key) DO UPDATE SET value = excluded.value`).run(workflow, key, value)
  }

  /**
   * Closes the database and releases the store's lock, so another process may schedule from it.
   * @example store.close()
   */
  close(): void {
    this.#unlock?.()
    this.#unlock = undefined
    this.#db.close()
  }

  #tx(fn: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      fn()
      this.#db.exec('COMMIT')
    } catch (e) {
      this.#db.exec('ROLLBACK')
      throw e
    }
  }
}

function toRun(r: Record<string, unknown>): RunRow {
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
  return {
    workflow: String(r.workflow),
    task: String(r.task),
    partition: String(r.partition),
    status: r.status as RunStatus,
    attempts: Number(r.attempts),
    failures: Number(r.failures),
    notBefore: Number(r.not_before),
    queuedAt: Number(r.queued_at),
    startedAt: num(r.started_at),
    endedAt: num(r.ended_at),
    error: r.error === null || r.error === undefined ? null : String(r.error),
    cancelRequested: Number(r.cancel_requested ?? 0) === 1,
    pid: num(r.pid),
    host: r.host === null || r.host === undefined ? null : String(r.host),
  }
}
