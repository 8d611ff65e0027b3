import { Worker } from 'node:worker_threads'
import { openSink } from '../open-sink.ts'
import { progressOf, waitForSources } from '../source-wait.ts'
import type { Pipeline } from '../../api/pipeline.ts'
import { systemClock, type Clock } from '../../core/clock.ts'
import { SluiceError, errorMessage, internalError, userError } from '../../core/errors.ts'
import { DEFAULT_KEY_GROUPS } from '../../core/key.ts'
import type { StepMetricsJson } from '../../core/metrics.ts'
import { attachDeadLetters } from '../../dlq/attach.ts'
import type { DeadLetterWriter } from '../../dlq/writer.ts'
import { buildPlan, type PhysicalPlan } from '../../plan/physical-plan.ts'
import { runLocal } from '../local-runner.ts'
import type { RunOptions, RunSummary } from '../run-types.ts'
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
import { BarrierGate, SubtaskBarrier } from './barrier-gate.ts'
import { ParallelCheckpointCoordinator, type ParallelRestore, type PendingCheckpoint } from '../../checkpoint/parallel-coordinator.ts'
import { ControlRequests } from '../../checkpoint/control.ts'
import type { CheckpointStats } from '../../checkpoint/manifest.ts'
import type { Batch } from '../../core/batch.ts'
import type { ErrorRecord } from '../../core/operator.ts'
import { serialize } from 'node:v8'

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
  return new Hub(p, plan, placement, n, opts.clock ?? systemClock, moduleUrl(opts.module), opts.params ?? {}, opts.checkpoint !== undefined).run(opts)
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
  private readonly checkpointing: boolean
  private coordinator: ParallelCheckpointCoordinator | undefined
  /** The checkpoint whose barrier is travelling through the graph (one at a time). */
  private cp: CheckpointProgress | undefined
  /** With checkpoints: barrier alignment over the inputs of each main-thread vertex (not sources) and each keyed parallel vertex. */
  private readonly gates: (BarrierGate | undefined)[] = []
  /** With checkpoints: barrier alignment over the subtasks feeding an input through the main thread. */
  private readonly edgeBarriers = new Map<string, SubtaskBarrier>()
  /** Vertices downstream of the errors vertex (itself included): their barrier follows everything else. */
  private readonly afterErrors = new Set<number>()
  private readonly vertexOfStep = new Map<string, number>()

  constructor(p: Pipeline, plan: PhysicalPlan, placement: Placement[], n: number, clock: Clock, module: string, params: Record<string, string>, checkpointing: boolean) {
    this.checkpointing = checkpointing
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
          push: (batch) =>
            this.gated(to, input, () => {
              const parts = partitionByKey(this.graph.withKeys(batch, key, targetId), n)
              for (let sub = 0; sub < n; sub++) {
                const part = parts[sub]
                if (part !== undefined) this.channels[sub].send({ t: 'data', v: to, input, batch: part })
              }
            }),
          inputWatermark: (_i, wm) => this.gated(to, input, () => this.broadcast({ t: 'wm', v: to, input, wm })),
          inputIdle: () => this.gated(to, input, () => this.broadcast({ t: 'idle', v: to, input })),
        }
      },
    )
    if (checkpointing) this.setUpBarriers()
  }

  /**
   * Checkpoint barriers: every main-thread vertex but the sources, and every keyed parallel vertex (all of
   * whose inputs come through here), gets a gate that aligns the barrier over its inputs. Edges between
   * main-thread vertices are rewired through the gates.
   */
  private setUpBarriers(): void {
    const { plan, placement, graph } = this
    const fail = (e: unknown): void => this.fail(e instanceof SluiceError ? e : internalError(`checkpoint of pipeline '${this.p.name}' failed: ${errorMessage(e)}`, { cause: e }))
    for (const pv of plan.vertices) {
      for (const s of pv.steps) this.vertexOfStep.set(s.id, pv.index)
      if (pv.role === 'source') continue
      if (placement[pv.index] === 'main') {
        this.gates[pv.index] = new BarrierGate(pv.inputs.length, pv.id, () => this.mainAligned(pv.index), fail)
      } else if (pv.inputs.every((i) => i.key !== undefined)) {
        this.gates[pv.index] = new BarrierGate(pv.inputs.length, pv.id, () => this.parallelAligned(pv.index), fail)
      }
    }
    connectRemote(
      graph,
      (e) => placement[e.to] === 'main',
      (e) => {
        const target = graph.vertices[e.to]!
        const gate = this.gates[e.to]!
        return {
          push: (batch, input) => gate.pass(input, () => target.push(batch, input)),
          inputWatermark: (input, wm) => gate.pass(input, () => target.inputWatermark(input, wm)),
          inputIdle: (input) => gate.pass(input, () => target.inputIdle(input)),
        }
      },
    )
    const ev = this.errorsVertex
    if (ev !== undefined) {
      const visit = (i: number): void => {
        if (this.afterErrors.has(i)) return
        this.afterErrors.add(i)
        for (const c of plan.consumers[i]) visit(c.to)
      }
      visit(ev.plan.index)
    }
  }

  /** Runs a delivery into input `input` of vertex `to` now, or after the barrier if that input is past it. */
  private gated(to: number, input: number, fn: () => void): void {
    const g = this.gates[to]
    if (g === undefined) fn()
    else g.pass(input, fn)
  }

  /** Barrier alignment of input `input` of vertex `to` over the subtasks that feed it. */
  private edgeBarrier(to: number, input: number): SubtaskBarrier {
    const k = `${to}:${input}`
    let b = this.edgeBarriers.get(k)
    if (b === undefined) this.edgeBarriers.set(k, (b = new SubtaskBarrier(this.n)))
    return b
  }

  /**
   * Starts checkpoint (or savepoint) `cp`: waits for source reads in flight, snapshots the sources, and sends
   * the barrier on from them. Processing goes on meanwhile; the checkpoint completes when every vertex has
   * passed the barrier (see `mainAligned`, `parallelAligned`, the workers' `snapshot` answers).
   */
  private async inject(runners: SourceRunner[], savepointDir?: string): Promise<number> {
    const coordinator = this.coordinator!
    const pending = await coordinator.beginCheckpoint(this.clock.now(), savepointDir)
    const t0 = performance.now()
    for (const r of runners) await r.quiesce()
    this.flushErrors()
    this.flushOutboxes()
    const parallelVertices = this.plan.vertices.filter((v) => this.placement[v.index] === 'parallel')
    const cp: CheckpointProgress = {
      pending,
      remainingMain: this.plan.vertices.length - parallelVertices.length,
      remainingSub: parallelVertices.length * this.n,
      outsideRemaining: this.plan.vertices.filter((v) => !this.afterErrors.has(v.index)).reduce((a, v) => a + (this.placement[v.index] === 'parallel' ? this.n : 1), 0),
      passed: new Set(),
      heldErrors: [],
      errorsPassed: this.errorsVertex === undefined,
    }
    this.cp = cp
    for (const r of runners) {
      const v = r.vertex
      pending.sources.push({ step: v.plan.id, kind: r.source.kind, state: r.snapshot() })
      this.passMain(v)
    }
    this.flushOutboxes()
    pending.syncMs += performance.now() - t0
    this.checkComplete()
    return pending.id
  }

  /** Main-thread vertex `index` has the barrier on all its inputs: snapshot it (a sink pre-commits) and pass it on. */
  private mainAligned(index: number): void | Promise<void> {
    const cp = this.cp!
    const v = this.graph.vertices[index]!
    cp.pending.alignmentMs = Math.max(cp.pending.alignmentMs, this.gates[index]!.alignmentMs)
    if (v.sink !== undefined) {
      return (async () => {
        await this.settleWrites()
        const t0 = performance.now()
        await this.coordinator!.preCommit(cp.pending, v)
        cp.pending.syncMs += performance.now() - t0
        this.passMain(v)
        this.notify()
      })()
    }
    const t0 = performance.now()
    this.flushErrors()
    cp.pending.addState(v.plan, 0, v.operator?.snapshot?.())
    cp.pending.syncMs += performance.now() - t0
    this.passMain(v)
    if (v === this.errorsVertex) {
      cp.errorsPassed = true
      for (const b of cp.heldErrors.splice(0)) v.emit(b)
    }
  }

  /** A main-thread vertex passed the barrier: its watermarks and counters go into the checkpoint, the barrier to its consumers. */
  private passMain(v: Vertex): void {
    const cp = this.cp!
    const index = v.plan.index
    cp.pending.addWatermarks(v.plan.id, { watermark: v.watermark, forwarded: v.forwarded, inputs: v.inWm.slice() })
    for (const s of v.plan.steps) cp.pending.addMetrics(this.graph.metrics.get(s.id)!.toJSON())
    cp.passed.add(`main:${index}`)
    cp.remainingMain--
    if (!this.afterErrors.has(index)) cp.outsideRemaining--
    for (const c of this.plan.consumers[index]) this.gates[c.to]!.barrier(c.input)
    this.checkComplete()
  }

  /** Keyed parallel vertex `index` has the barrier on all its inputs: every subtask gets it, after everything before it. */
  private parallelAligned(index: number): void {
    const cp = this.cp!
    cp.pending.alignmentMs = Math.max(cp.pending.alignmentMs, this.gates[index]!.alignmentMs)
    this.broadcast({ t: 'barrier', v: index, id: cp.pending.id })
  }

  /** Subtask `from` snapshotted vertex `it.v`. */
  private subtaskSnapshot(from: number, it: Extract<WorkerItem, { t: 'snapshot' }>): void {
    const cp = this.cp
    if (cp === undefined || it.id !== cp.pending.id) throw internalError(`subtask ${from} answered barrier ${it.id}, which is not in progress`)
    const pv = this.plan.vertices[it.v]
    if (it.state !== undefined) cp.pending.addStateFiles(pv, from, it.state)
    cp.pending.addWatermarks(pv.id, it.wm)
    for (const m of it.steps) cp.pending.addMetrics(m)
    cp.pending.subtaskMs[from] += it.ms
    cp.passed.add(`${from}:${it.v}`)
    cp.remainingSub--
    if (!this.afterErrors.has(it.v)) cp.outsideRemaining--
    this.checkComplete()
  }

  /** Subtask `from` sent the barrier on the edge into input `input` of `to`. */
  private subtaskBarrier(from: number, to: number, input: number): void {
    const cp = this.cp!
    const eb = this.edgeBarrier(to, input)
    eb.barrier(from, () => {
      cp.pending.alignmentMs = Math.max(cp.pending.alignmentMs, eb.alignmentMs)
      // Records sent before the barrier but held for the watermarks of slower subtasks are in flight: saved with the checkpoint.
      const held = this.input(to, input).heldItems()
      if (held.length > 0) cp.pending.channels.push({ to: this.plan.vertices[to].id, input, data: serialize(held).toString('base64') })
      this.gates[to]!.barrier(input)
    })
  }

  private checkComplete(): void {
    const cp = this.cp
    if (cp === undefined) return
    if (!cp.errorsPassed && cp.outsideRemaining === 0 && this.errorsVertex !== undefined && !cp.passed.has(`main:${this.errorsVertex.plan.index}`)) {
      this.gates[this.errorsVertex.plan.index]!.barrier(0)
      return
    }
    if (cp.remainingMain > 0 || cp.remainingSub > 0) return
    this.cp = undefined
    this.coordinator!.complete(cp.pending)
    this.notify()
  }

  /** Main-thread error records go to the errors vertex; during a checkpoint, those of steps past the barrier wait for it. */
  private flushErrors(): void {
    const g = this.graph
    if (this.cp === undefined || this.cp.errorsPassed || g.errors.pending.length === 0) {
      g.flushErrors()
      return
    }
    this.emitErrors(g.errors.pending.take(), 'main')
  }

  private emitErrors(batch: Batch, from: number | 'main'): void {
    const ev = this.errorsVertex
    if (ev === undefined) return
    const cp = this.cp
    if (cp === undefined || cp.errorsPassed) {
      ev.emit(batch)
      return
    }
    const after = (r: unknown): boolean => {
      const v = this.vertexOfStep.get((r as ErrorRecord).step)
      if (v === undefined) return false
      return cp.passed.has(this.placement[v] === 'main' ? `main:${v}` : `${from}:${v}`)
    }
    const [before, late] = splitBatch(batch, after)
    if (before !== undefined) ev.emit(before)
    if (late !== undefined) cp.heldErrors.push(late)
  }

  /** Takes a checkpoint (or a savepoint into `savepointDir`) now and waits until it is durably written. */
  private async checkpointNow(runners: SourceRunner[], savepointDir?: string): Promise<CheckpointStats> {
    await this.pumpUntil(() => this.cp === undefined)
    const id = await this.inject(runners, savepointDir)
    await this.pumpUntil(() => this.cp === undefined)
    await this.coordinator!.waitFor(id)
    return this.coordinator!.report.last!
  }

  /** Before any data: workers restore their state, records that were in flight are held again. */
  private applyRestore(r: ParallelRestore): void {
    r.subtasks.forEach((vertices, sub) => this.channels[sub].send({ t: 'restore', vertices }))
    for (const c of r.channels) {
      const a = this.input(c.to, c.input)
      for (const h of c.held) {
        const item = h.item as DataItem
        if (this.placement[c.to] === 'main') {
          a.hold(h.level, item)
          continue
        }
        partitionByKey(item.batch, this.n).forEach((part, sub) => {
          if (part !== undefined) a.hold(h.level, { ...item, sub, batch: part })
        })
      }
    }
    this.flushOutboxes()
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
        if (step.impl.role === 'sink') v.sink = await openSink(step, { pipeline: p.name, stepId: v.plan.id, subtask: 0, checkpointing: this.checkpointing })
        if (step.impl.role === 'source') runners.push(new SourceRunner(v, step.impl.source, clock, graph.errors))
      }
      deadLetters = await attachDeadLetters(p, graph, { clock })
      for (const r of runners) await r.open(signal, p.name)
      if (opts.checkpoint !== undefined) {
        this.coordinator = new ParallelCheckpointCoordinator(p.name, graph, runners, opts.checkpoint, clock.now(), this.n, (i) => this.placement[i] === 'parallel')
        const restored = await this.coordinator.restore()
        if (restored !== undefined) this.applyRestore(restored)
      }
      status = await this.readSources(runners, signal, opts, started)
      // A checkpoint still travelling completes first: end of input and stops act on a graph without barriers.
      if (this.coordinator !== undefined) await this.pumpUntil(() => this.cp === undefined)
      if (status === 'finished') {
        this.errorsVertex?.setWatermark(Infinity)
        this.flushOutboxes()
        await this.finishVertices()
      } else if (this.coordinator !== undefined) {
        // Records held for alignment stay held: the last checkpoint saves them as in flight.
        await this.pumpUntil(() => this.cp === undefined && this.quiescent())
      } else {
        await this.drainStopped()
      }
      await this.settleWrites()
      if (this.coordinator !== undefined) {
        // A last checkpoint, at the end of input or on a graceful stop, commits what transactional sinks hold.
        await this.checkpointNow(runners)
        await this.settleWrites()
        await this.coordinator.settle()
      }
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
      await Promise.allSettled([...runners.map((r) => r.close()), this.coordinator?.close()])
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
      ...(this.coordinator !== undefined ? { checkpoints: this.coordinator.report } : {}),
    })
  }

  /** Reads the sources until they end or the run is stopped, a batch at a time while every worker has credit. */
  private async readSources(runners: SourceRunner[], signal: AbortSignal, opts: RunOptions, started: number): Promise<RunSummary['status']> {
    const { graph, clock } = this
    const batchSize = this.p.options.batchSize
    const progressEvery = opts.progressIntervalMs ?? 1000
    let lastYield = performance.now()
    let lastProgress = lastYield
    const control = opts.checkpoint === undefined ? undefined : new ControlRequests(opts.checkpoint.dir)
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
          this.flushErrors()
          this.flushOutboxes()
          await this.settleWrites()
        }
      }
      if (this.errorsVertex !== undefined) this.errorsVertex.setWatermark(Math.min(...runners.map((r) => r.vertex.watermark)))
      const now = clock.now()
      if (graph.nextProcessingTimer() <= now) {
        graph.fireProcessingTimers(now)
        this.flushErrors()
      }
      for (const r of runners) r.checkIdle(now)
      this.flushOutboxes()
      if (this.coordinator !== undefined) {
        if (this.cp === undefined && this.coordinator.due(now)) await this.inject(runners)
        const req = control!.poll()
        if (req !== undefined) {
          await control!.answer(req, () => this.checkpointNow(runners, req.target))
          if (req.stop) return 'stopped'
        }
      }
      const t = performance.now()
      if (opts.onProgress !== undefined && t - lastProgress >= progressEvery) {
        lastProgress = t
        opts.onProgress(progressOf(runners, t - started, clock.now()))
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
        this.flushErrors()
        this.flushOutboxes()
        await this.settleWrites()
      } else {
        if (pv.role !== 'operator') continue
        this.broadcast({ t: 'finish', v: pv.index })
        this.flushOutboxes()
      }
      await this.pumpUntil(() => this.quiescent())
    }
    this.flushErrors()
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
      this.flushErrors()
      this.flushOutboxes()
      await this.settleWrites()
    }
  }

  private spawn(): void {
    const signature = planSignature(this.plan)
    for (let sub = 0; sub < this.n; sub++) {
      const workerData: WorkerInit = { module: this.module, params: this.params, subtask: sub, parallelism: this.n, signature, checkpointing: this.checkpointing }
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
          if (this.checkpointing) this.edgeBarrier(it.to, it.input).pass(from, () => this.input(it.to, it.input).data(from, it))
          else this.input(it.to, it.input).data(from, it)
          break
        case 'wm':
          if (this.checkpointing) this.edgeBarrier(it.to, it.input).pass(from, () => this.input(it.to, it.input).watermark(from, it.wm))
          else this.input(it.to, it.input).watermark(from, it.wm)
          break
        case 'idle':
          if (this.checkpointing) this.edgeBarrier(it.to, it.input).pass(from, () => this.input(it.to, it.input).markIdle(from))
          else this.input(it.to, it.input).markIdle(from)
          break
        case 'barrier':
          this.subtaskBarrier(from, it.to, it.input)
          break
        case 'snapshot':
          this.subtaskSnapshot(from, it)
          break
        case 'errors':
          this.emitErrors(it.batch, from)
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
    this.flushErrors()
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
        data: (it) => this.gated(to, input, () => v.push(it.batch, input)),
        watermark: (wm) => this.gated(to, input, () => v.inputWatermark(input, wm)),
        idle: () => this.gated(to, input, () => v.inputIdle(input)),
      })
    } else {
      a = new AlignedInput<DataItem>(this.n, {
        data: (it) => this.gated(to, input, () => this.channels[it.sub!].send({ t: 'data', v: to, input, batch: it.batch })),
        watermark: (wm) => this.gated(to, input, () => this.broadcast({ t: 'wm', v: to, input, wm })),
        idle: () => this.gated(to, input, () => this.broadcast({ t: 'idle', v: to, input })),
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
    await waitForSources(runners, this.graph, this.clock.now(), signal.aborted ? [] : [this.nextEvent()])
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

interface CheckpointProgress {
  pending: PendingCheckpoint
  /** Main-thread vertices (sources included) that have not passed the barrier yet. */
  remainingMain: number
  /** Snapshots of parallel vertices still to come, one per vertex per subtask. */
  remainingSub: number
  /** Of those, the parts not downstream of the errors vertex. */
  outsideRemaining: number
  /** `main:<vertex>` and `<subtask>:<vertex>` of the vertices past the barrier. */
  passed: Set<string>
  /** Error records of steps past the barrier, for the errors vertex after its barrier. */
  heldErrors: Batch[]
  errorsPassed: boolean
}

/** Splits a batch by a predicate on its values: those for which it is false, and those for which it is true. */
function splitBatch(b: Batch, pred: (v: unknown) => boolean): [Batch | undefined, Batch | undefined] {
  const flags = b.values.map(pred)
  if (!flags.includes(true)) return [b, undefined]
  if (!flags.includes(false)) return [undefined, b]
  const pick = (want: boolean): Batch => {
    const keep = (_: unknown, i: number) => flags[i] === want
    return {
      values: b.values.filter(keep),
      times: b.times.filter(keep),
      ...(b.keys ? { keys: b.keys.filter(keep) } : {}),
      ...(b.kinds ? { kinds: b.kinds.filter(keep) } : {}),
      ...(b.pos ? { pos: b.pos.filter(keep) } : {}),
    }
  }
  return [pick(false), pick(true)]
}

