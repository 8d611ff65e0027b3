import { join } from 'node:path'
import type { StateOptions } from '../../core/state-options.ts'
import { registerContracts, registryOf } from '../register-contracts.ts'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import { SpanRecorder, type StepTraceOptions } from '../../observe/trace/step-spans.ts'
import type { Pipeline } from '../../api/pipeline.ts'
import { CheckpointCoordinator } from '../../checkpoint/coordinator.ts'
import type { CheckpointStats } from '../../checkpoint/manifest.ts'
import { systemClock, type Clock } from '../../core/clock.ts'
import { SluiceError, errorMessage, internalError, userError } from '../../core/errors.ts'
import { failpoint } from '../../core/failpoints.ts'
import { openDeadLetterWriter } from '../attach-dead-letters.ts'
import type { LetterWriter } from '../../dlq/letter-writer.ts'
import { buildPlan, type PhysicalPlan } from '../../plan/physical-plan.ts'
import type { MetricsRegistry } from '../../observe/metrics/registry.ts'
import { progressOf } from '../progress.ts'
import type { JobControl } from '../job/control.ts'
import { emptyInspector } from '../job/types.ts'
import { jobInspector } from './inspector.ts'
import type { Command as JobCommand } from '../job/types.ts'
import type { Progress, RunOptions, RunSummary } from '../run-types.ts'
import { summaryOf } from '../summary.ts'
import { SubtaskExecutor } from './executor.ts'
import { laterCommits } from './later-commits.ts'
import { layOut, type Layout } from './layout.ts'
import { moduleUrl, workerEnv } from './load.ts'
import type { Ack, BarrierSpec, Bundle, Command, Item, Report, ThreadInspection } from './protocol.ts'
import type { WindowInspection } from '../../operators/window/window-operator.ts'
import { noteQualityResults } from '../../contracts/quality/results-seen.ts'
import { Router, type ExchangePort } from './router.ts'
import { deserializeError } from './serialized-error.ts'
import { SharedClock } from './shared-clock.ts'
import { planSignature } from './signature.ts'
import type { WorkerInit } from './worker-main.ts'
import { workerPool } from './worker-pool.ts'

type Phase = 'running' | 'stopping' | 'finishing' | 'closing'

/** How long the window explainer waits for the other threads' answers; a thread busy longer is left out. */
const INSPECT_WAIT_MS = 2000

interface WindowAsk {
  answers: (WindowInspection | undefined)[]
  missing: number
  done(): void
}

interface RoundWaiter {
  kind: BarrierSpec['kind']
  savepoint?: string
  resolve(stats: CheckpointStats | undefined): void
  reject(e: unknown): void
}

/**
 * Runs a pipeline: thread 0 (this one) runs its own subtasks with the same executor as the N-1 worker threads,
 * and coordinates: it starts the workers with direct channels between every pair of threads, restores, sends
 * checkpoint barriers and commits, drains on a stop, and closes the run once every thread has ended. It serves
 * the job's commands (checkpoint, savepoint, stop, cancel) between batches and reports status, checkpoints and
 * the outcome to the job's control; the figures of every thread meet in the control's metrics registry.
 */
export class JobRunner {
  private readonly p: Pipeline
  private readonly opts: RunOptions
  private readonly threads: number
  private readonly plan: PhysicalPlan
  private readonly layout: Layout
  private readonly clock: Clock
  private readonly shared: SharedClock
  private readonly workers: { worker: Worker; off: () => void }[] = []
  private router!: Router
  private executor!: SubtaskExecutor
  private coordinator: CheckpointCoordinator | undefined
  private readonly control: JobControl
  private readonly registry: MetricsRegistry
  /** The event-time warnings each worker thread reported last (thread 0's come from its executor). */
  private readonly threadWarnings = new Map<number, string[]>()
  /** What each worker thread's subtasks showed the control plane in their last report. */
  private readonly threadInspections = new Map<number, ThreadInspection>()
  /** The explainer's questions to the other threads, by id, until answered or given up. */
  private readonly windowAsks = new Map<number, WindowAsk>()
  private nextAsk = 0
  private deadLetters: LetterWriter | undefined
  private phase: Phase = 'running'
  private status: RunSummary['status'] = 'finished'
  private failure: unknown
  private ready = 1
  private drained = 0
  private closed = 0
  /** The barrier round in flight (a checkpoint, savepoint or drain), until its commits are done. */
  private busy: RoundWaiter | undefined
  private roundStarted = 0
  private roundId = -1
  private committed = 0
  private onReady: (() => void) | undefined
  private onClosed: (() => void) | undefined
  private readonly started = performance.now()
  private lastProgress = 0

  /** Threads in other processes (the Kafka runner): thread 0's ports to them; no worker threads are spawned. */
  private readonly remote: RemoteThreads | undefined

  constructor(p: Pipeline, opts: RunOptions, control: JobControl, remote?: RemoteThreads) {
    this.p = p
    this.remote = remote
    this.opts = opts
    this.control = control
    this.registry = control.registry
    this.threads = opts.parallelism ?? 1
    this.plan = buildPlan(p)
    this.layout = layOut(this.plan, this.threads, opts.checkpoint !== undefined)
    this.clock = opts.clock ?? systemClock
    this.shared = new SharedClock(this.clock)
    control.wake = () => this.executor?.notify()
  }

  /** Runs the job to its end and settles its control (finished, failed or cancelled); never rejects. */
  async run(): Promise<void> {
    const onCancel = (): void => this.fail(this.control.signal.reason)
    this.control.signal.addEventListener('abort', onCancel)
    try {
      this.control.finished(await this.execute())
    } catch (e) {
      this.control.failed(e)
    } finally {
      this.control.signal.removeEventListener('abort', onCancel)
    }
  }

  private async execute(): Promise<RunSummary> {
    const { p, opts, threads } = this
    const cpu0 = process.cpuUsage()
    if (threads > 1 && (opts.module === undefined || opts.module === '')) {
      throw userError('SLUICE_PARALLEL_NEEDS_MODULE', `pipeline '${p.name}': parallelism ${threads} runs subtasks on worker threads, which load the pipeline from its module, but no module was given`, {
        hint: `pass run(p, { parallelism: ${threads}, module: <path or URL of the file whose default export is the pipeline> }), or use 'sluice run <file> --parallelism ${threads}'`,
      })
    }
    const registry = registryOf(p, opts.registry)
    if (registry !== undefined && this.remote === undefined) await registerContracts(p, registry)
    const checkpointing = opts.checkpoint !== undefined
    const signal = opts.signal ?? new AbortController().signal
    if (this.control.signal.aborted) throw this.control.signal.reason
    const onAbort = (): void => this.executor?.notify()
    signal.addEventListener('abort', onAbort)
    try {
      const ports = this.remote?.ports ?? this.spawn(checkpointing)
      this.router = new Router(0, ports, (from, b) => this.onBundle(from, b))
      if (p.options.onError === 'dead-letter') this.deadLetters = await openDeadLetterWriter(p, { checkpointing })
      const r = this.router
      this.executor = new SubtaskExecutor({
        pipeline: p,
        plan: this.plan,
        layout: this.layout,
        thread: 0,
        clock: this.clock,
        checkpointing,
        ...(this.stateOptions() !== undefined ? { state: this.stateOptions() } : {}),
        registry: this.registry,
        send: (t, item) => r.send(t, item),
        flush: () => r.flush(),
        hasCredit: () => r.hasCredit,
        giveCredit: (t, n) => r.giveCredit(t, n),
        report: (rep) => this.onReport(0, rep),
        signal,
        tick: () => this.tick(signal),
        onStuck: (step, ms) => this.progress({ step, ms }),
        ...(opts.trace !== undefined ? { spans: new SpanRecorder(p.name, opts.trace, opts.trace.onExportError) } : {}),
        ...(this.deadLetters !== undefined ? { deadLetters: this.deadLetters } : {}),
      })
      const ex = this.executor
      r.onUnsendable = (v, input, batch, rows) => ex.unsendable(v, input, batch, rows)
      await this.executor.open()
      this.control.inspector = jobInspector(this.executor, this.deadLetters, { reports: () => [...this.threadInspections.values()], window: (step, key, time) => this.askWindow(step, key, time) })
      await this.until(() => this.ready === threads, (w) => (this.onReady = w))
      if (checkpointing) {
        // Local copies of checkpoints in object storage live beside the durable state when it has a folder.
        const stateDir = p.options.state?.dir
        const config = opts.checkpoint!.localRecovery === undefined && stateDir !== undefined ? { ...opts.checkpoint!, localRecovery: join(stateDir, 'local') } : opts.checkpoint!
        this.coordinator = new CheckpointCoordinator(p.name, this.plan, { threads, subtasks: (v) => this.layout.subtasks(v), edge: (v, i) => this.layout.inputs[v][i].kind }, config, this.clock.now(), this.deadLetters !== undefined)
        const c = this.coordinator
        this.control.checkpointing = {
          intervalMs: () => c.intervalMs,
          // The executor may be asleep until the old due time: it looks again at once.
          setIntervalMs: (ms) => (c.setInterval(ms, this.clock.now()), this.executor?.notify()),
        }
      }
      const restores = await this.coordinator?.restore(laterCommits(this.plan, this.deadLetters))
      const report = this.coordinator?.report
      const splits = this.executor.splitNames()
      for (let t = 1; t < threads; t++) this.send(t, { t: 'start', restore: restores?.[t], ...(splits.length > 0 ? { splits } : {}) })
      this.router.flush()
      const startedAt = performance.now()
      await this.executor.start(restores?.[0])
      // The restore's time includes this thread's operators taking their state (decoded as they read it).
      if (restores !== undefined && report?.restoredFrom != null) this.control.restored(report.restoredFrom, opts.checkpoint!.restoreFrom ?? opts.checkpoint!.dir, (report.restoreMs ?? 0) + performance.now() - startedAt)
      if (this.control.status().status === 'starting') this.control.setStatus('running')
      await this.executor.run()
      await this.until(() => this.closed === threads, (w) => (this.onClosed = w))
      this.check()
      this.control.inspector = emptyInspector
      this.control.checkpointing = undefined
      await this.deadLetters?.close(this.status === 'finished')
    } catch (e) {
      this.failure ??= e
      this.control.inspector = emptyInspector
      this.control.checkpointing = undefined
      await this.executor?.abandon()
      await this.deadLetters?.close(false).catch(() => {})
      const f = this.failure
      throw f instanceof SluiceError ? f : new SluiceError('SLUICE_INTERNAL', `pipeline '${p.name}' failed: ${errorMessage(f)}`, { domain: 'internal', cause: f })
    } finally {
      signal.removeEventListener('abort', onAbort)
      this.phase = 'closing'
      for (const a of this.windowAsks.values()) a.done()
      // Workers of a run that finished take the next run's threads; the others are ended.
      const clean = this.failure === undefined && this.status === 'finished'
      await Promise.allSettled(this.workers.map((w) => (clean ? (w.off(), workerPool.giveBack(w.worker)) : w.worker.terminate())))
      this.router?.close()
      await this.coordinator?.close()
    }
    return this.summary(cpu0)
  }

  /** Starts the worker threads with a port to every other thread; returns thread 0's ports. */
  private spawn(checkpointing: boolean): (MessagePort | undefined)[] {
    const n = this.threads
    const ports: (MessagePort | undefined)[][] = Array.from({ length: n }, () => new Array(n).fill(undefined))
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const ch = new MessageChannel()
        ports[i][j] = ch.port1
        ports[j][i] = ch.port2
      }
    }
    const signature = planSignature(this.plan)
    for (let t = 1; t < n; t++) {
      const own = ports[t]
      const workerData: WorkerInit = { module: moduleUrl(this.opts.module!), params: this.opts.params ?? {}, thread: t, threads: n, signature, checkpointing, ports: own, clock: this.shared.buffer, spread: this.layout.spread, ...(this.stateOptions() !== undefined ? { state: this.stateOptions() } : {}), ...(this.opts.trace !== undefined ? { trace: cloneableTrace(this.opts.trace) } : {}) }
      const worker = workerPool.take(new URL('./worker-main.ts', import.meta.url), workerData, workerEnv())
      const onError = (e: Error): void => this.fail(e instanceof SluiceError ? e : internalError(`thread ${t} of pipeline '${this.p.name}' crashed`, { cause: e }))
      const onExit = (code: number): void => {
        if (this.phase !== 'closing') this.fail(internalError(`thread ${t} of pipeline '${this.p.name}' exited unexpectedly (code ${code})`))
      }
      worker.on('error', onError)
      worker.on('exit', onExit)
      this.workers.push({ worker, off: () => void worker.off('error', onError).off('exit', onExit) })
    }
    return ports[0]
  }

  private onBundle(from: number, b: Bundle): void {
    const rest: Item[] = []
    for (const it of b.items) {
      if (isReport(it)) this.onReport(from, it)
      else rest.push(it)
    }
    if (rest.length > 0 || b.data) this.executor.receive(from, rest, b.data)
  }

  private onReport(from: number, r: Report): void {
    switch (r.t) {
      case 'ready':
        // A worker thread was given thread 0's signature; a thread in another process built its plan itself.
        if (this.remote !== undefined && r.signature !== planSignature(this.plan)) {
          this.fail(userError('SLUICE_PARALLEL_PLAN_MISMATCH', `thread ${r.thread} of pipeline '${this.p.name}' built a different pipeline than thread 0`, { hint: 'every worker must run the same pipeline file with the same --param values' }))
          return
        }
        this.ready++
        this.onReady?.()
        return
      case 'ack':
        this.onAck(r.ack)
        return
      case 'committed':
        if (r.id === this.roundId && ++this.committed === this.threads) void this.roundCommitted()
        return
      case 'drained':
        this.drained++
        this.executor.notify()
        return
      case 'metrics':
        this.registry.absorb(r.thread, r.data)
        if (r.warnings !== undefined) this.threadWarnings.set(r.thread, r.warnings)
        if (r.inspection !== undefined) {
          this.threadInspections.set(r.thread, r.inspection)
          if (r.inspection.quality.length > 0) noteQualityResults(this.p.name, r.inspection.quality)
        }
        return
      case 'window': {
        const a = this.windowAsks.get(r.id)
        if (a === undefined) return
        a.answers.push(r.window)
        if (--a.missing === 0) a.done()
        return
      }
      case 'closed':
        this.closed++
        this.onClosed?.()
        return
      case 'fail':
        this.fail(deserializeError(r.error, `thread ${from}`))
        return
    }
  }

  /**
   * Asks every other thread for its view of window step `step` (answered between its batches); resolves with the
   * answers that came within INSPECT_WAIT_MS, or at once when the run is ending. Nothing in the run waits on it.
   */
  private askWindow(step: string, key: string, time: number): Promise<(WindowInspection | undefined)[]> {
    if (this.threads === 1 || this.phase === 'closing' || this.failure !== undefined) return Promise.resolve([])
    const id = this.nextAsk++
    return new Promise((resolve) => {
      const a: WindowAsk = {
        answers: [],
        missing: this.threads - 1,
        done: () => {
          clearTimeout(timer)
          this.windowAsks.delete(id)
          resolve(a.answers)
        },
      }
      const timer = setTimeout(() => a.done(), INSPECT_WAIT_MS)
      timer.unref()
      this.windowAsks.set(id, a)
      for (let t = 1; t < this.threads; t++) this.router.send(t, { t: 'inspect-window', id, step, key, time })
      this.router.flush()
    })
  }

  private send(t: number, c: Command): void {
    if (t === 0) this.executor.command(c)
    else this.router.send(t, c)
  }

  private broadcast(c: Command): void {
    for (let t = 0; t < this.threads; t++) this.send(t, c)
    this.router.flush()
  }

  /** Called by thread 0's executor on every turn of its loop; returns when it wants to be called next. */
  private tick(signal: AbortSignal): number {
    this.shared.publish()
    if (this.failure !== undefined) throw this.failure
    this.coordinator?.check()
    const now = this.clock.now()
    this.progress()
    // A stop takes effect at once: the sources stop reading even while a checkpoint is in flight.
    if (signal.aborted && this.phase === 'running') this.stop()
    if (this.phase !== 'running') this.answerStops()
    if (this.busy !== undefined || this.phase === 'closing') return Infinity
    if (this.phase === 'running') {
      const cmd = this.control.next()
      if (cmd !== undefined) {
        this.serve(cmd)
      } else if (this.drained === this.threads) {
        this.phase = 'finishing'
        this.control.setStatus('finishing')
      } else if (this.coordinator?.due(now) === true) {
        this.begin({ kind: 'checkpoint', resolve: () => {}, reject: () => {} })
      }
    }
    if (this.busy !== undefined) return Infinity
    if (this.phase === 'finishing' && this.coordinator === undefined) this.lastRoundDone = true
    if (this.phase === 'stopping' || this.phase === 'finishing') {
      if (this.lastRoundDone) this.close()
      else this.begin({ kind: this.coordinator === undefined ? 'drain' : 'checkpoint', resolve: () => (this.lastRoundDone = true), reject: () => {} })
      return Infinity
    }
    return this.coordinator?.nextDue ?? Infinity
  }

  private lastRoundDone = false

  /** A graceful stop: sources stop, what is in flight drains, a last checkpoint commits the sinks. */
  private stop(): void {
    if (this.phase !== 'running') return
    this.phase = 'stopping'
    this.status = 'stopped'
    this.control.setStatus('stopping')
    this.broadcast({ t: 'stop' })
  }

  /** Serves one command of the job's handle (between batches, with no barrier round in flight). */
  private serve(cmd: JobCommand): void {
    switch (cmd.kind) {
      case 'cancel':
        // The control's signal is aborted already: the run fails as cancelled on this turn.
        return
      case 'stop':
        this.stop()
        cmd.resolve()
        return
      case 'checkpoint':
        this.begin({ kind: 'checkpoint', resolve: (s) => (s === undefined ? cmd.reject(this.checkpointError()) : cmd.resolve(s)), reject: (e) => cmd.reject(e) })
        return
      case 'savepoint': {
        const target = cmd.target!
        const w: RoundWaiter = {
          kind: 'savepoint',
          savepoint: target,
          resolve: (s) => {
            if (cmd.stop === true) this.lastRoundDone = true
            if (s === undefined) cmd.reject(new SluiceError('SLUICE_SAVEPOINT_FAILED', `savepoint into '${target}' failed`))
            else cmd.resolve(s)
          },
          reject: (e) => cmd.reject(e),
        }
        // With a stop, the sources stop before the barrier: the savepoint is where the job ends.
        this.begin(w, cmd.stop === true ? () => this.stop() : undefined)
        return
      }
    }
  }

  /** Commands that arrive once a stop (or the end) is under way: a stop has nothing left to do, the others are refused. */
  private answerStops(): void {
    for (let cmd = this.control.next(); cmd !== undefined; cmd = this.control.next()) {
      if (cmd.kind === 'stop') cmd.resolve()
      else if (cmd.kind !== 'cancel') cmd.reject(new SluiceError('SLUICE_JOB_NOT_RUNNING', `cannot serve a ${cmd.kind} request: pipeline '${this.p.name}' is ${this.phase === 'finishing' ? 'finishing (its input ended)' : 'stopping'}`, { hint: 'checkpoints and savepoints are taken while the job runs' }))
    }
  }

  private checkpointError(): SluiceError {
    const e = this.coordinator?.lastError
    return e instanceof SluiceError ? e : new SluiceError('SLUICE_CHECKPOINT_FAILED', `checkpoint of '${this.p.name}' failed: ${errorMessage(e)}`, { domain: 'external', cause: e })
  }

  /** Starts a barrier round for `w`; `onStart` runs once the round is sure to start, before its barrier goes out. */
  private begin(w: RoundWaiter, onStart?: () => void): void {
    const c = this.coordinator
    if (c === undefined && w.kind !== 'drain') {
      w.reject(new SluiceError('SLUICE_NO_CHECKPOINTS', `pipeline '${this.p.name}' runs without checkpoints`, { hint: 'run it with --checkpoint-dir' }))
      return
    }
    let round: { id: number; spec: BarrierSpec }
    if (c === undefined) {
      round = { id: 0, spec: { kind: 'drain', delta: false, staging: undefined } }
      this.drainAcks = 0
    } else {
      try {
        round = c.begin(this.clock.now(), w.kind, w.savepoint)
      } catch (e) {
        w.reject(e)
        return
      }
    }
    onStart?.()
    this.busy = w
    this.roundId = round.id
    this.roundStarted = performance.now()
    this.committed = 0
    this.broadcast({ t: 'checkpoint', id: round.id, spec: round.spec })
  }

  private drainAcks = 0

  private onAck(a: Ack): void {
    const c = this.coordinator
    if (c === undefined) {
      let expected = this.deadLetters !== undefined ? 1 : 0
      for (const v of this.plan.vertices) expected += this.layout.subtasks(v.index)
      if (++this.drainAcks === expected) this.endRound(undefined)
      return
    }
    if (!c.ack(a)) return
    if (this.busy?.kind === 'drain') {
      c.endDrain()
      this.endRound(undefined)
      return
    }
    c.complete().then(
      (stats) => {
        if (stats === undefined) {
          this.endRound(undefined)
          return
        }
        this.lastStats = stats
        this.lastDurationMs = performance.now() - this.roundStarted
        failpoint('checkpoint-before-commit')
        this.broadcast({ t: 'commit', id: stats.id })
      },
      (e) => this.endRound(undefined, e),
    )
  }

  private lastStats: CheckpointStats | undefined
  /** From the round's start until its manifest was written. */
  private lastDurationMs = 0

  private async roundCommitted(): Promise<void> {
    failpoint('checkpoint-after-commit')
    try {
      if (this.busy?.kind === 'checkpoint') await this.coordinator!.retain()
    } catch (e) {
      this.opts.checkpoint?.warn?.(`could not remove old checkpoints: ${errorMessage(e)}`)
    }
    this.endRound(this.lastStats)
  }

  private endRound(stats: CheckpointStats | undefined, error?: unknown): void {
    const w = this.busy
    this.busy = undefined
    if (w !== undefined && w.kind !== 'drain') {
      if (stats !== undefined) this.control.checkpointCompleted(stats, { durationMs: this.lastDurationMs, ...(w.savepoint !== undefined ? { savepoint: w.savepoint } : {}) })
      else this.control.checkpointFailed(this.roundId, error ?? this.coordinator?.lastError)
    }
    if (w !== undefined) {
      if (error !== undefined) w.reject(error)
      else w.resolve(stats)
    }
    this.executor.notify()
  }

  private close(): void {
    this.phase = 'closing'
    this.broadcast({ t: 'close', commit: true })
  }

  private fail(e: unknown): void {
    if (this.phase === 'closing' && this.closed === this.threads) return
    this.failure ??= e
    this.executor?.fail(e)
    this.onReady?.()
    this.onClosed?.()
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure
  }

  private async until(done: () => boolean, setWaker: (w: () => void) => void): Promise<void> {
    while (!done()) {
      this.check()
      await new Promise<void>((r) => setWaker(r))
    }
    this.check()
  }

  private progress(stuck?: Progress['stuck']): void {
    const o = this.opts
    if (o.onProgress === undefined) return
    const t = performance.now()
    if (t - this.lastProgress < (o.progressIntervalMs ?? 1000)) return
    this.lastProgress = t
    const progress = progressOf(this.registry.snapshot(), t - this.started)
    o.onProgress(stuck !== undefined ? { ...progress, stuck } : progress)
  }

  /** Where keyed state lives: the run's `state` option over the pipeline's. */
  private stateOptions(): StateOptions | undefined {
    const given = this.opts.state
    return given === undefined ? this.p.options.state : { ...this.p.options.state, ...given }
  }

  /** The run summary: a view of the registry's snapshot, with the run's outcome and times. */
  private summary(cpu0: NodeJS.CpuUsage): RunSummary {
    const cpu = process.cpuUsage(cpu0)
    const warnings = [...new Set([...this.executor.warnings(), ...[...this.threadWarnings.values()].flat(), ...this.control.notes])]
    return summaryOf(this.registry.snapshot(), {
      status: this.status,
      parallelism: this.threads,
      wallMs: performance.now() - this.started,
      cpuMs: (cpu.user + cpu.system) / 1000,
      keyedSteps: this.plan.vertices.filter((v) => v.keyed).map((v) => v.id),
      backend: this.stateOptions()?.backend ?? 'heap',
      checkpointing: this.coordinator !== undefined,
      warnings,
    })
  }
}

function isReport(it: Item): it is Report {
  return it.t === 'ready' || it.t === 'ack' || it.t === 'committed' || it.t === 'drained' || it.t === 'metrics' || it.t === 'window' || it.t === 'closed' || it.t === 'fail'
}

/** Threads 1..N-1 of a run that live in other processes, reached through `ports` (index 0 unused). */
export interface RemoteThreads {
  ports: (ExchangePort | undefined)[]
}

/** Runs a pipeline at any parallelism, reporting to and taking commands from `control`; settles it at the end. */
export function runJob(p: Pipeline, opts: RunOptions, control: JobControl, remote?: RemoteThreads): Promise<void> {
  return new JobRunner(p, opts, control, remote).run()
}

/** Trace options a worker can be given (a function cannot cross to a thread; workers' export failures go unreported). */
function cloneableTrace(t: NonNullable<RunOptions['trace']>): StepTraceOptions {
  const { onExportError: _drop, ...rest } = t
  return rest
}
