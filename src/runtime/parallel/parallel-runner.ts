import { Worker } from 'node:worker_threads'
import type { Pipeline } from '../../api/pipeline.ts'
import { systemClock, type Clock } from '../../core/clock.ts'
import { SluiceError, errorMessage, internalError, userError } from '../../core/errors.ts'
import { DEFAULT_KEY_GROUPS } from '../../core/key.ts'
import type { StepMetricsJson } from '../../core/metrics.ts'
import { attachDeadLetters } from '../../dlq/attach.ts'
import type { DeadLetterWriter } from '../../dlq/writer.ts'
import { buildPlan, type PhysicalPlan } from '../../plan/physical-plan.ts'
import { runLocal } from '../local-runner.ts'
import type { Progress, RunOptions, RunSummary } from '../run-types.ts'
import { SourceRunner } from '../source-runner.ts'
import { summarize } from '../summary.ts'
import { TaskGraph } from '../task-graph.ts'
import type { Vertex } from '../vertex.ts'
import { placeVertices, planSignature, type Placement } from './assign.ts'
import { WorkerChannel } from './channel.ts'
import { moduleUrl } from './load.ts'
import { partitionByKey } from './partition.ts'
import { deserializeError, type WorkerInit, type WorkerItem, type WorkerMessage } from './protocol.ts'
import { connectRemote } from './remote.ts'
import { AlignedInput } from './watermarks.ts'

const YIELD_EVERY_MS = 20

/**
 * Runs keyed steps as `parallelism` subtasks on worker threads. The main thread is the hub: it reads the
 * sources, runs the vertices that are not parallel (sources, errors, sinks, steps that mix inputs), routes
 * records on keyed edges to the subtask owning their key, and combines the watermarks of the N subtasks of a
 * producer by minimum. Channels are bounded by credits; end of input finishes vertices in plan order, each
 * after everything upstream of it has finished and been delivered, as the single-thread runner does.
 */
export async function runParallel(p: Pipeline, opts: RunOptions & { parallelism: number }): Promise<RunSummary> {
  const n = opts.parallelism
  if (opts.module === undefined || opts.module === '') {
    throw userError('SLUICE_PARALLEL_NEEDS_MODULE', `pipeline '${p.name}': parallelism ${n} runs keyed steps on worker threads, which load the pipeline from its module, but no module was given`, {
      hint: `pass run(p, { parallelism: ${n}, module: <path or URL of the file whose default export is the pipeline> }), or use 'sluice run <file> --parallelism ${n}'`,
    })
  }
  if (n > DEFAULT_KEY_GROUPS) throw userError('SLUICE_BAD_OPTION', `parallelism must be at most ${DEFAULT_KEY_GROUPS} (the number of key groups), got ${n}`)
  const plan = buildPlan(p)
  const placement = placeVertices(plan)
  // Nothing keyed: nothing to spread over threads.
  if (!placement.includes('parallel')) return runLocal(p, opts)
  return new Hub(p, plan, placement, n, opts.clock ?? systemClock, moduleUrl(opts.module), opts.params ?? {}).run(opts)
}

class Hub {
  private readonly p: Pipeline
  private readonly plan: PhysicalPlan
  private readonly placement: Placement[]
  private readonly n: number
  private readonly clock: Clock
  private readonly module: string
  private readonly params: Record<string, string>
  private readonly graph: TaskGraph
  private readonly errorsVertex: Vertex | undefined
  private channels: WorkerChannel[] = []
  private readonly inbound: { from: number; msg: WorkerMessage }[] = []
  private readonly aligned = new Map<string, AlignedInput<DataItem>>()
  private readonly workerMetrics: (StepMetricsJson[] | undefined)[]
  private ready = 0
  private failure: SluiceError | undefined
  private wake: (() => void) | undefined
  private closing = false

  constructor(p: Pipeline, plan: PhysicalPlan, placement: Placement[], n: number, clock: Clock, module: string, params: Record<string, string>) {
    this.p = p
    this.plan = plan
    this.placement = placement
    this.n = n
    this.clock = clock
    this.module = module
    this.params = params
    this.workerMetrics = new Array(n).fill(undefined)
    this.graph = new TaskGraph(plan, { clock, onError: p.options.onError, include: (i) => placement[i] === 'main' })
    this.errorsVertex = this.graph.vertices.find((v) => v?.plan.role === 'errors')
    connectRemote(
      this.graph,
      (e) => placement[e.to] === 'parallel',
      ({ to, input, key }) => {
        const targetId = plan.vertices[to].id
        if (key === undefined) throw internalError(`edge into parallel step '${targetId}' has no key`)
        return {
          push: (batch) => {
            const parts = partitionByKey(this.graph.withKeys(batch, key, targetId), n)
            for (let sub = 0; sub < n; sub++) {
              const part = parts[sub]
              if (part !== undefined) this.channels[sub].send({ t: 'data', v: to, input, batch: part })
            }
          },
          inputWatermark: (_i, wm) => this.broadcast({ t: 'wm', v: to, input, wm }),
          inputIdle: () => this.broadcast({ t: 'idle', v: to, input }),
        }
      },
    )
  }

  async run(opts: RunOptions): Promise<RunSummary> {
    const started = performance.now()
    const cpu0 = process.cpuUsage()
    const { p, graph, clock } = this
    const signal = opts.signal ?? new AbortController().signal
    const onAbort = (): void => this.notify()
    signal.addEventListener('abort', onAbort)
    const runners: SourceRunner[] = []
    let status: RunSummary['status'] = 'finished'
    let deadLetters: DeadLetterWriter | undefined
    try {
      this.spawn()
      await this.pumpUntil(() => this.ready === this.n)
      for (const v of graph.vertices) {
        if (v === undefined) continue
        const step = v.plan.steps[0]
        if (step.impl.role === 'sink') v.sink = await step.impl.sink.open({ pipeline: p.name, stepId: v.plan.id, subtask: 0 })
        if (step.impl.role === 'source') runners.push(new SourceRunner(v, step.impl.source, clock, graph.errors))
      }
      deadLetters = await attachDeadLetters(p, graph, { clock })
      for (const r of runners) await r.open(signal, p.name)
      status = await this.readSources(runners, signal, opts, started)
      if (status === 'finished') {
        this.errorsVertex?.setWatermark(Infinity)
        this.flushOutboxes()
        await this.finishVertices()
      } else {
        await this.drainStopped()
      }
      await this.settleWrites()
      this.broadcast({ t: 'end' })
      this.flushOutboxes()
      await this.pumpUntil(() => this.workerMetrics.every((m) => m !== undefined))
      for (const { writer } of graph.sinks()) await writer.close()
      await deadLetters?.close(status === 'finished')
    } catch (e) {
      await Promise.allSettled([...graph.sinks().map(({ writer }) => writer.close()), deadLetters?.close(false)])
      throw e instanceof SluiceError ? e : new SluiceError('SLUICE_INTERNAL', `pipeline '${p.name}' failed: ${errorMessage(e)}`, { domain: 'internal', cause: e })
    } finally {
      signal.removeEventListener('abort', onAbort)
      this.closing = true
      await Promise.allSettled(this.channels.map((c) => c.worker.terminate()))
      await Promise.allSettled(runners.map((r) => r.close()))
    }
    return summarize({
      pipeline: p.name,
      status,
      parallelism: this.n,
      wallMs: performance.now() - started,
      cpu0,
      recordsIn: runners.reduce((a, r) => a + r.recordsIn, 0),
      watermark: Math.min(...runners.map((r) => r.vertex.watermark)),
      steps: this.mergedMetrics(),
    })
  }

  /** Reads the sources until they end or the run is stopped, a batch at a time while every worker has credit. */
  private async readSources(runners: SourceRunner[], signal: AbortSignal, opts: RunOptions, started: number): Promise<RunSummary['status']> {
    const { graph, clock } = this
    const batchSize = this.p.options.batchSize
    const progressEvery = opts.progressIntervalMs ?? 1000
    let lastYield = performance.now()
    let lastProgress = lastYield
    for (;;) {
      await this.drainInbound()
      if (signal.aborted) return 'stopped'
      if (runners.every((r) => r.done)) return 'finished'
      if (!this.channels.every((c) => c.hasCredit)) {
        await this.pumpUntil(() => signal.aborted || this.channels.every((c) => c.hasCredit))
        lastYield = performance.now()
        continue
      }
      let progressed = false
      for (const r of runners) {
        if (r.done) continue
        if (r.step(batchSize)) {
          progressed = true
          graph.flushErrors()
          this.flushOutboxes()
          await this.settleWrites()
        }
      }
      if (this.errorsVertex !== undefined) this.errorsVertex.setWatermark(Math.min(...runners.map((r) => r.vertex.watermark)))
      const now = clock.now()
      if (graph.nextProcessingTimer() <= now) {
        graph.fireProcessingTimers(now)
        graph.flushErrors()
      }
      for (const r of runners) r.checkIdle(now)
      this.flushOutboxes()
      const t = performance.now()
      if (opts.onProgress !== undefined && t - lastProgress >= progressEvery) {
        lastProgress = t
        opts.onProgress(progress(runners, t - started, clock.now()))
      }
      if (!progressed && !runners.every((r) => r.done)) {
        await this.waitForWork(runners, signal)
        lastYield = performance.now()
      } else if (t - lastYield >= YIELD_EVERY_MS) {
        // Let worker answers, timers and signals in between batches of synchronous sources.
        await new Promise<void>((resolve) => setImmediate(resolve))
        lastYield = performance.now()
      }
    }
  }

  /**
   * End of input: finishes the vertices in plan (topological) order. A parallel vertex finishes on every
   * worker, and the next vertex waits until all of its output has been handled and delivered.
   */
  private async finishVertices(): Promise<void> {
    await this.pumpUntil(() => this.quiescent())
    for (const pv of this.plan.vertices) {
      if (this.placement[pv.index] === 'main') {
        const v = this.graph.vertices[pv.index]!
        if (v.operator?.finish === undefined) continue
        v.operator.finish(v)
        this.graph.flushErrors()
        this.flushOutboxes()
        await this.settleWrites()
      } else {
        if (pv.role !== 'operator') continue
        this.broadcast({ t: 'finish', v: pv.index })
        this.flushOutboxes()
      }
      await this.pumpUntil(() => this.quiescent())
    }
    this.graph.flushErrors()
    this.flushOutboxes()
    await this.pumpUntil(() => this.quiescent())
  }

  /** A stopped run: delivers everything in flight, including records held for watermarks that will not come. */
  private async drainStopped(): Promise<void> {
    for (;;) {
      await this.pumpUntil(() => this.quiescent())
      const held = [...this.aligned.values()].filter((a) => a.heldCount > 0)
      if (held.length === 0) return
      for (const a of held) a.releaseAll()
      this.graph.flushErrors()
      this.flushOutboxes()
      await this.settleWrites()
    }
  }

  private spawn(): void {
    const signature = planSignature(this.plan)
    for (let sub = 0; sub < this.n; sub++) {
      const workerData: WorkerInit = { module: this.module, params: this.params, subtask: sub, parallelism: this.n, signature }
      const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData })
      const ch = new WorkerChannel(sub, worker)
      this.channels.push(ch)
      worker.on('message', (msg: WorkerMessage) => {
        for (const it of msg.items) if (it.t === 'fail') this.fail(deserializeError(it.error, `subtask ${sub}`))
        this.inbound.push({ from: sub, msg })
        this.notify()
      })
      worker.on('error', (e) => this.fail(e instanceof SluiceError ? e : internalError(`subtask ${sub} of pipeline '${this.p.name}' crashed`, { cause: e })))
      worker.on('messageerror', (e) => this.fail(internalError(`subtask ${sub} of pipeline '${this.p.name}' could not read a message`, { cause: e })))
      worker.on('exit', (code) => {
        ch.exited = true
        if (!this.closing) this.fail(internalError(`subtask ${sub} of pipeline '${this.p.name}' exited unexpectedly (code ${code})`))
      })
    }
  }

  /** Handles one answer of worker `from`: its outputs in order, then gives back its credit. */
  private handle(from: number, msg: WorkerMessage): void {
    for (const it of msg.items) {
      switch (it.t) {
        case 'ready':
          this.ready++
          break
        case 'data':
          this.input(it.to, it.input).data(from, it)
          break
        case 'wm':
          this.input(it.to, it.input).watermark(from, it.wm)
          break
        case 'idle':
          this.input(it.to, it.input).markIdle(from)
          break
        case 'errors':
          if (this.errorsVertex !== undefined) this.errorsVertex.emit(it.batch)
          break
        case 'dead-letters':
          this.graph.errors.addLetters(it.letters)
          break
        case 'metrics':
          this.workerMetrics[from] = it.steps
          break
        case 'fail':
          break
      }
    }
    this.graph.flushErrors()
    this.flushOutboxes()
    this.channels[from].inFlight -= msg.acked
  }

  private mainVertex(index: number): Vertex {
    const v = this.graph.vertices[index]
    if (v === undefined) throw internalError(`step '${this.plan.vertices[index].id}' does not run on the main thread`)
    return v
  }

  /** Input `input` of vertex `to`, fed by all subtasks: records aligned with the combined watermark. */
  private input(to: number, input: number): AlignedInput<DataItem> {
    const k = `${to}:${input}`
    let a = this.aligned.get(k)
    if (a !== undefined) return a
    if (this.placement[to] === 'main') {
      const v = this.mainVertex(to)
      a = new AlignedInput<DataItem>(this.n, {
        data: (it) => v.push(it.batch, input),
        watermark: (wm) => v.inputWatermark(input, wm),
        idle: () => v.inputIdle(input),
      })
    } else {
      a = new AlignedInput<DataItem>(this.n, {
        data: (it) => this.channels[it.sub!].send({ t: 'data', v: to, input, batch: it.batch }),
        watermark: (wm) => this.broadcast({ t: 'wm', v: to, input, wm }),
        idle: () => this.broadcast({ t: 'idle', v: to, input }),
      })
    }
    this.aligned.set(k, a)
    return a
  }

  private broadcast(item: Parameters<WorkerChannel['send']>[0]): void {
    for (const c of this.channels) c.send(item)
  }

  private flushOutboxes(): void {
    for (const c of this.channels) c.flush()
  }

  private quiescent(): boolean {
    return this.inbound.length === 0 && this.channels.every((c) => c.inFlight === 0)
  }

  private async settleWrites(): Promise<void> {
    const w = this.graph.pendingWrites
    while (w.length > 0) await Promise.all(w.splice(0))
  }

  /** Handles worker answers in order; a sink's pending write holds the next answer back (backpressure). */
  private async drainInbound(): Promise<void> {
    this.check()
    while (this.inbound.length > 0) {
      const { from, msg } = this.inbound.shift()!
      this.handle(from, msg)
      await this.settleWrites()
      this.check()
    }
  }

  private async pumpUntil(done: () => boolean): Promise<void> {
    for (;;) {
      await this.drainInbound()
      if (done()) return
      await this.nextEvent()
    }
  }

  private nextEvent(): Promise<void> {
    if (this.inbound.length > 0 || this.failure !== undefined) return Promise.resolve()
    return new Promise<void>((resolve) => (this.wake = resolve))
  }

  private notify(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private fail(e: SluiceError): void {
    if (this.failure === undefined && !this.closing) this.failure = e
    this.notify()
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure
  }

  /** Waits until a source has data, a timer or idle check is due, a worker answers, or the run is stopped. */
  private async waitForWork(runners: SourceRunner[], signal: AbortSignal): Promise<void> {
    const waits: Promise<unknown>[] = runners.flatMap((r) => r.waitables())
    const wakeAt = Math.min(this.graph.nextProcessingTimer(), ...runners.map((r) => r.nextIdleCheck()))
    const delay = waits.length === 0 && wakeAt === Infinity ? 10 : wakeAt - this.clock.now()
    let timer: NodeJS.Timeout | undefined
    if (Number.isFinite(delay)) waits.push(new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, Math.min(delay, 1000))))))
    if (!signal.aborted) waits.push(this.nextEvent())
    await Promise.race(waits)
    if (timer !== undefined) clearTimeout(timer)
  }

  /** Step metrics of the main thread plus those of every subtask, summed per step. */
  private mergedMetrics(): StepMetricsJson[] {
    const steps = this.graph.stepMetrics()
    const byStep = new Map(steps.map((m) => [m.step, m]))
    for (const ms of this.workerMetrics) {
      for (const m of ms ?? []) {
        const s = byStep.get(m.step)
        if (s === undefined) continue
        s.in += m.in
        s.out += m.out
        s.late += m.late
        s.errors += m.errors
        s.dropped += m.dropped
        if (m.retries !== undefined) s.retries = (s.retries ?? 0) + m.retries
      }
    }
    return steps
  }
}

type DataItem = Extract<WorkerItem, { t: 'data' }>

function progress(runners: SourceRunner[], elapsedMs: number, now: number): Progress {
  const recordsIn = runners.reduce((a, r) => a + r.recordsIn, 0)
  const watermark = Math.min(...runners.map((r) => r.vertex.watermark))
  return { recordsIn, recordsPerSecond: elapsedMs > 0 ? (recordsIn * 1000) / elapsedMs : 0, watermark, lagMs: Number.isFinite(watermark) ? now - watermark : NaN, elapsedMs }
}
