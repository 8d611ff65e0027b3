import type { CheckpointStats } from '../../checkpoint/manifest.ts'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { MetricsRegistry } from '../../observe/metrics/registry.ts'
import type { RunSummary } from '../run-types.ts'
import { EventFeed } from './event-feed.ts'
import { emptyInspector, type Command, type JobEvent, type JobInspector, type JobStatus, type StopReason } from './types.ts'

/** The statuses each status may move to; the final ones move nowhere. */
const NEXT: Record<JobStatus, readonly JobStatus[]> = {
  starting: ['running', 'finishing', 'stopping', 'finished', 'stopped', 'failed', 'cancelled'],
  running: ['finishing', 'stopping', 'finished', 'stopped', 'failed', 'cancelled'],
  // Input may end while a stop is under way, and a stop may arrive while finishing: either way it ends.
  finishing: ['finished', 'stopped', 'failed', 'cancelled'],
  stopping: ['finished', 'stopped', 'failed', 'cancelled'],
  finished: [],
  stopped: [],
  failed: [],
  cancelled: [],
}

const FINAL: ReadonlySet<JobStatus> = new Set(['finished', 'stopped', 'failed', 'cancelled'])

export interface JobControlOptions {
  /** Wall clock for `since` and event times (epoch ms). Default Date.now. */
  now?: () => number
  /** Where a listener's error is reported (a listener never breaks the job). Default console.warn. */
  warn?: (msg: string) => void
}

/**
 * The runtime's side of a job: the runner reports status, events and the end here, and takes the commands
 * the handle queued (`next()`, between batches). `wake` is set by the runner and called when a command is
 * queued, so that a runner waiting for input looks again; `signal` is aborted on cancel.
 * @example
 * for (;;) {
 *   for (let c = control.next(); c !== undefined; c = control.next()) await serve(c)
 *   if (control.signal.aborted) return control.cancelled()
 *   await runOneBatch()
 * }
 */
export class JobControl {
  readonly pipeline: string
  readonly registry: MetricsRegistry
  readonly signal: AbortSignal
  /** Set by the runner while the job runs: read-only views for the control plane (see JobInspector). */
  inspector: JobInspector = emptyInspector
  /** Set by the runner while a job that takes checkpoints runs: the time between its periodic checkpoints, readable and changeable. */
  checkpointing: { intervalMs(): number; setIntervalMs(ms: number): void } | undefined
  /** Set by the runner: called whenever a command is queued (or the job is cancelled). */
  wake: () => void = () => {}
  /** Warnings about the run found outside the runner (what lineage could not know); the summary lists them. */
  readonly notes: string[] = []
  readonly done: Promise<RunSummary>
  /** Resolves when the job has reached a final status, however it ended. */
  readonly ended: Promise<void>
  private readonly now: () => number
  private readonly abort = new AbortController()
  private readonly queue: Command[] = []
  private readonly feed: EventFeed
  private current: JobStatus = 'starting'
  private since: number
  private stopReason: StopReason | undefined
  private stopAnnounced = false
  private settle!: { resolve: (s: RunSummary) => void; reject: (e: unknown) => void }
  private markEnded!: () => void

  constructor(pipeline: string, registry: MetricsRegistry, opts: JobControlOptions = {}) {
    this.pipeline = pipeline
    this.registry = registry
    this.signal = this.abort.signal
    this.now = opts.now ?? Date.now
    this.since = this.now()
    this.feed = new EventFeed(opts.warn ?? ((msg) => console.warn(msg)))
    registry.status = this.current
    this.done = new Promise<RunSummary>((resolve, reject) => (this.settle = { resolve, reject }))
    // Nobody may be waiting on `done`: a failed job must not also crash the process as an unhandled rejection.
    this.done.catch(() => {})
    this.ended = new Promise<void>((resolve) => (this.markEnded = resolve))
  }

  status(): { status: JobStatus; since: number } {
    return { status: this.current, since: this.since }
  }

  /** The job reached a final status. */
  get isEnded(): boolean {
    return FINAL.has(this.current)
  }

  /**
   * Moves the job to status `s` (no-op if it is there already); a move the life cycle does not allow throws.
   * The final statuses come with the job's outcome: `finished()`, `failed()`, `cancelled()`.
   */
  setStatus(s: JobStatus): void {
    if (FINAL.has(s) && s !== this.current) {
      throw new SluiceError('SLUICE_JOB_BAD_STATUS', `pipeline '${this.pipeline}' ends as '${s}' through finished(), failed() or cancelled(), which settle its outcome`, { domain: 'internal' })
    }
    this.move(s)
  }

  private move(s: JobStatus): void {
    if (s === this.current) return
    if (!NEXT[this.current].includes(s)) {
      throw new SluiceError('SLUICE_JOB_BAD_STATUS', `pipeline '${this.pipeline}' cannot go from '${this.current}' to '${s}'`, { domain: 'internal' })
    }
    if (s === 'finishing' || s === 'finished') this.announceStop('end-of-input')
    if (s === 'stopping' || s === 'stopped') this.announceStop(this.stopReason ?? 'stop')
    if (s === 'cancelled') this.announceStop('cancel')
    this.current = s
    this.since = this.now()
    this.registry.status = s
    this.feed.emit({ type: 'status', status: s, at: this.since })
    if (FINAL.has(s)) this.end()
  }

  /**
   * Reports an event to every listener, in order. A 'status' event moves the status (`setStatus`); a job stops
   * once: a second 'stop' event is not repeated.
   */
  emit(e: JobEvent): void {
    if (e.type === 'status') return this.setStatus(e.status)
    if (e.type === 'stop') {
      if (this.stopAnnounced) return
      this.stopAnnounced = true
    }
    this.feed.emit(e)
  }

  /** A checkpoint (or savepoint, with its folder) completed: counted in the registry and reported. */
  checkpointCompleted(stats: CheckpointStats, opts: { savepoint?: string; durationMs?: number } = {}): void {
    this.registry.checkpointCompleted(stats, opts.durationMs)
    this.emit({ type: 'checkpoint-completed', stats, ...(opts.savepoint !== undefined ? { savepoint: opts.savepoint } : {}) })
  }

  /** A checkpoint failed: counted and reported (the job goes on unless too many fail in a row). */
  checkpointFailed(id: number, error: unknown): void {
    this.registry.checkpoints.failed++
    this.emit({ type: 'checkpoint-failed', id, error: errorMessage(error) })
  }

  /** The job resumed from checkpoint `id` found in folder `from`. */
  restored(id: number, from: string, restoreMs?: number): void {
    const c = this.registry.checkpoints
    c.restored++
    c.restoredFrom = id
    c.restoreMs = restoreMs ?? null
    this.emit({ type: 'restored', id, from })
  }

  /** The job ended normally (input done, or stopped): `done` resolves with the summary. */
  finished(summary: RunSummary): void {
    this.checkNotEnded('finished')
    this.move(summary.status)
    this.settle.resolve(summary)
  }

  /** The job failed (after a cancel: it was cancelled). `done` rejects with the error. */
  failed(error: unknown): void {
    if (this.signal.aborted) return this.cancelled(error)
    const e = error instanceof SluiceError ? error : new SluiceError('SLUICE_INTERNAL', `pipeline '${this.pipeline}' failed: ${errorMessage(error)}`, { domain: 'internal', cause: error })
    this.checkNotEnded('failed')
    this.emit({ type: 'error', error: { code: e.code, message: e.message } })
    this.move('failed')
    this.settle.reject(e)
  }

  /** The job ended because it was cancelled: no final checkpoint, nothing committed. `done` rejects. */
  cancelled(cause?: unknown): void {
    this.checkNotEnded('cancelled')
    this.move('cancelled')
    this.settle.reject(new SluiceError('SLUICE_JOB_CANCELLED', `pipeline '${this.pipeline}' was cancelled: no final checkpoint, sinks did not commit`, { cause }))
  }

  /** The next command to serve, oldest first; the runner calls it between batches. */
  next(): Command | undefined {
    const c = this.queue.shift()
    if (c !== undefined && (c.kind === 'stop' || (c.kind === 'savepoint' && c.stop === true))) this.stopReason ??= c.kind === 'stop' ? 'stop' : 'savepoint'
    return c
  }

  /** Queues a command for the runner (the handle's side); settles when the runner has served it. */
  request(kind: 'checkpoint' | 'savepoint' | 'stop', opts: { target?: string; stop?: boolean } = {}): Promise<CheckpointStats | undefined> {
    if (this.isEnded || this.signal.aborted) return Promise.reject(this.notRunning(kind))
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, ...(opts.target !== undefined ? { target: opts.target } : {}), ...(opts.stop !== undefined ? { stop: opts.stop } : {}), resolve, reject })
      this.wake()
    })
  }

  /** Changes the time between periodic checkpoints of the running job (see `JobHandle.setCheckpointInterval`). */
  setCheckpointInterval(ms: number): void {
    if (this.isEnded || this.signal.aborted) throw new SluiceError('SLUICE_JOB_NOT_RUNNING', `pipeline '${this.pipeline}' is ${this.current}: its checkpoint interval cannot change`)
    if (!Number.isSafeInteger(ms) || ms < 0) throw new SluiceError('SLUICE_BAD_ARGUMENT', `a checkpoint interval is a whole number of milliseconds, 0 or more (got ${ms})`)
    if (this.checkpointing === undefined) throw new SluiceError('SLUICE_NO_CHECKPOINTS', `pipeline '${this.pipeline}' runs without checkpoints`, { hint: 'run it with --checkpoint-dir' })
    this.checkpointing.setIntervalMs(ms)
  }

  /** A stop is queued or under way. */
  get stopping(): boolean {
    return this.current === 'stopping' || this.current === 'finishing' || this.queue.some((c) => c.kind === 'stop')
  }

  /** Aborts the signal at once and queues a cancel ahead of everything else, which is dropped. */
  cancel(): Promise<void> {
    if (this.isEnded) return Promise.reject(this.notRunning('cancel'))
    if (!this.signal.aborted) {
      this.announceStop('cancel')
      for (const c of this.queue.splice(0)) c.reject(new SluiceError('SLUICE_JOB_CANCELLED', `pipeline '${this.pipeline}' was cancelled before the ${c.kind} request was served`))
      this.queue.push({ kind: 'cancel', resolve: () => {}, reject: () => {} })
      this.abort.abort(new SluiceError('SLUICE_JOB_CANCELLED', `pipeline '${this.pipeline}' was cancelled`))
      this.wake()
    }
    return this.ended
  }

  /** Subscribes a listener to events from now on. */
  subscribe(listener: (e: JobEvent) => void): () => void {
    return this.feed.subscribe(listener)
  }

  /** The events from now on, as an async iteration that ends with the job. */
  events(): AsyncIterable<JobEvent> {
    return this.feed.iterate()
  }

  private announceStop(reason: StopReason): void {
    this.emit({ type: 'stop', reason })
  }

  private end(): void {
    for (const c of this.queue.splice(0)) c.reject(this.notRunning(c.kind))
    this.feed.close()
    this.markEnded()
  }

  private checkNotEnded(what: string): void {
    if (this.isEnded) throw new SluiceError('SLUICE_JOB_BAD_STATUS', `pipeline '${this.pipeline}' cannot be ${what}: it already ended as '${this.current}'`, { domain: 'internal' })
  }

  private notRunning(kind: Command['kind']): SluiceError {
    const state = this.signal.aborted && !this.isEnded ? 'is being cancelled' : `has ended (${this.current})`
    return new SluiceError('SLUICE_JOB_NOT_RUNNING', `cannot ${kind === 'cancel' ? 'cancel' : `serve a ${kind} request`}: pipeline '${this.pipeline}' ${state}`, {
      hint: 'a job takes requests from its start until it ends; its handle\'s status() says where it is',
    })
  }
}
