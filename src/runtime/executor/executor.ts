import type { Pipeline } from '../../api/pipeline.ts'
import type { SpanRecorder } from '../../observe/trace/step-spans.ts'
import type { Batch } from '../../core/batch.ts'
import type { Clock } from '../../core/clock.ts'
import { SluiceError, errorMessage, internalError } from '../../core/errors.ts'
import { failpoint } from '../../core/failpoints.ts'
import type { ErrorRecord } from '../../core/operator.ts'
import type { DeadLetter } from '../../dlq/record.ts'
import type { LetterWriter } from '../../dlq/letter-writer.ts'
import { configureErrors } from '../attach-dead-letters.ts'
import { isEncodedKeyedRestore, openKeyedRestore } from '../../checkpoint/keyed-restore.ts'
import type { PhysicalPlan } from '../../plan/physical-plan.ts'
import type { MetricsRegistry } from '../../observe/metrics/registry.ts'
import type { StepMetrics } from '../../core/metrics.ts'
import { openSink } from '../open-sink.ts'
import { SourceRunner } from '../source-runner.ts'
import { TaskGraph } from '../task-graph.ts'
import type { Vertex } from '../vertex.ts'
import { VertexInputs } from './inputs.ts'
import type { Layout } from './layout.ts'
import { wireOutlets, type Outlet } from './outlets.ts'
import type { Ack, BarrierSpec, Command, Item, Report, SourceSplits, ThreadRestore } from './protocol.ts'
import { SnapshotWriter } from './snapshot-writer.ts'
import { recoverSink } from './sink-recovery.ts'
import { sinkReject } from './sink-reject.ts'
import { settleWithin } from './write-watch.ts'
import { DeadLetterCollector } from './dead-letter-collector.ts'
import { BlockedTime } from './blocked-time.ts'
import type { StateOptions } from '../../core/state-options.ts'
import { isPausable } from '../../operators/pausable.ts'
import { plainCopy, unsendable } from '../../core/record-errors.ts'
import { PausedDelivery } from './paused-delivery.ts'
import { topKeys } from '../hot-keys.ts'
import { qualityResultsSince } from '../../contracts/quality/results-seen.ts'
import { threadInspection, windowView } from './inspector.ts'

const YIELD_EVERY_MS = 20
/** How soon a source that had nothing (and no promise) is asked again, at most. */
const POLL_MS = 10
const METRICS_EVERY_MS = 1000
/** Batches from one sender held for watermark alignment beyond which its credits wait. */
const HELD_PER_SENDER = 4
/** Quality results a worker passes on in one report at most (the latest). */
const QUALITY_PER_REPORT = 1000

export interface ExecutorInit {
  pipeline: Pipeline
  plan: PhysicalPlan
  layout: Layout
  thread: number
  clock: Clock
  checkpointing: boolean
  /** This thread's metrics: the executor counts into it and keeps its gauges current whenever it is read. */
  registry: MetricsRegistry
  /** Sends an item to another thread (buffered until `flush`). */
  send(to: number, item: Item): void
  /** Posts what `send` buffered. */
  flush(): void
  /** Every outgoing channel has credit: this thread may read its sources. */
  hasCredit(): boolean
  /** This thread has handled `n` bundles of records from thread `to`: give their credits back. */
  giveCredit(to: number, n: number): void
  /** Gives a reply to thread 0 (a local call on thread 0). */
  report(r: Report): void
  /** Thread 0 under `dead-letter`: the writer that letters of every thread go to. */
  deadLetters?: LetterWriter
  signal: AbortSignal
  /** Thread 0: the runner's turn at every turn of the loop (checkpoints, stops); returns when to call it next. */
  tick?: () => number
  /** Thread 0: a sink's write has been pending for `ms` (about once a second while it is). */
  onStuck?: (step: string, ms: number) => void
  /** When the run is traced: this thread's recorder of step spans. */
  spans?: SpanRecorder
  /** Where keyed state lives in this run (`run(p, { state })` over the pipeline's option); default the pipeline's. */
  state?: StateOptions
}

interface Round {
  id: number
  spec: BarrierSpec
  passed: Set<number>
  /** Error records of steps past the barrier, for the errors vertex once it has passed it. */
  heldErrors: Batch<ErrorRecord>[]
  /** Dead letters of steps past the barrier, sent after this thread's letters barrier. */
  heldLetters: DeadLetter[]
  lettersSent: boolean
}

/**
 * Runs this thread's subtask of every vertex laid out on it: reads its share of the sources' partitions,
 * delivers records, watermarks, barriers and ends of input through the vertices' inputs, fires processing-time
 * timers through the injected clock, applies the error policy, snapshots subtasks at barriers and pre-commits
 * sinks, and reports to thread 0. The same code runs at parallelism 1 (one thread, every channel a function
 * call) and at N (N threads, channels between threads over MessagePorts).
 */
export class SubtaskExecutor {
  readonly graph: TaskGraph
  readonly runners: SourceRunner[] = []
  private readonly init: ExecutorInit
  private readonly thread: number
  private readonly inputs: (VertexInputs | undefined)[]
  private outlets: Outlet[][] = []
  private readonly inbound: { from: number; items: Item[]; data: boolean }[] = []
  private readonly deferredAcks: number[]
  private wake: (() => void) | undefined
  private failure: unknown
  private stopped = false
  private closing: { commit: boolean } | undefined
  private round: Round | undefined
  private inject: { id: number; spec: BarrierSpec } | undefined
  private readonly finished: boolean[]
  private localVertices = 0
  private finishedCount = 0
  private drainedReported = false
  private readonly errorsVertex: Vertex | undefined
  /** Vertices fed, directly or not, by the errors vertex: their barrier and end follow everything else. */
  private readonly afterErrors = new Set<number>()
  private readonly vertexOfStep = new Map<string, number>()
  private readonly uncommitted = new Map<number, { checkpointId: number; handle: unknown }[]>()
  private readonly commits: number[] = []
  private readonly snapshots: SnapshotWriter
  private lastMetrics = 0
  private nextTick = Infinity
  private readonly blocked = new BlockedTime()
  /** Holds the thread's delivery in order while a slow step is paused, so the event loop stays responsive. */
  private readonly delivery: PausedDelivery

  constructor(init: ExecutorInit) {
    this.init = init
    const { plan, layout, thread, pipeline: p, clock } = init
    this.thread = thread
    this.deferredAcks = new Array<number>(layout.threads).fill(0)
    this.snapshots = new SnapshotWriter(thread)
    this.graph = new TaskGraph(plan, {
      clock,
      onError: p.options.onError,
      subtask: thread,
      parallelism: layout.threads,
      registry: init.registry,
      include: (i) => layout.runsOn(i, thread),
      ...((init.state ?? p.options.state) !== undefined ? { state: init.state ?? p.options.state } : {}),
      // Past the budget the job fails at once: the error is the run's failure, whatever the error policy.
      onStateMemory: (e) => this.fail(e),
    })
    configureErrors(p, this.graph, clock)
    for (const v of this.graph.vertices) {
      if (v === undefined) continue
      v.subtask = thread
      v.spans = init.spans
    }
    this.delivery = new PausedDelivery(
      (e) => this.fail(e),
      () => this.notify(),
    )
    for (const v of this.graph.vertices) if (v?.operator !== undefined && isPausable(v.operator)) this.delivery.attach(v.operator)
    init.registry.onRead = () => this.refreshGauges()
    this.errorsVertex = this.graph.vertices.find((v) => v?.plan.role === 'errors')
    this.finished = plan.vertices.map(() => false)
    for (const pv of plan.vertices) {
      for (const s of pv.steps) this.vertexOfStep.set(s.id, pv.index)
      if (this.graph.vertices[pv.index] !== undefined) this.localVertices++
    }
    if (this.errorsVertex !== undefined) {
      const visit = (i: number): void => {
        if (this.afterErrors.has(i)) return
        this.afterErrors.add(i)
        for (const c of plan.consumers[i]) visit(c.to)
      }
      visit(this.errorsVertex.plan.index)
    }
    const fail = (e: unknown): void => this.fail(e)
    this.inputs = this.graph.vertices.map((v) => {
      if (v === undefined || v.plan.role === 'source' || v.plan.role === 'errors') return undefined
      const channels = layout.inputs[v.plan.index].map((x) => x.channels)
      return new VertexInputs(v, channels, () => this.aligned(v), () => this.ended(v), fail, this.delivery)
    })
    if (init.deadLetters !== undefined) {
      const w = init.deadLetters
      w.onPending = (p) => {
        this.writeSteps.set(p, 'dead letters')
        this.graph.pendingWrites.push(p)
      }
      this.letterCollector = new DeadLetterCollector(w, layout.threads, (ack) => init.report({ t: 'ack', ack }))
    }
    this.outlets = wireOutlets(this.graph, layout, {
      thread,
      local: (i) => this.inputs[i]!,
      send: (t, item) => init.send(t, item),
      pause: this.delivery,
    })
  }

  /** Opens this thread's sources, then its sinks: an input that is missing fails the start before any output is touched. */
  async open(): Promise<void> {
    const { pipeline: p, layout, thread, clock } = this.init
    for (const v of this.graph.vertices) {
      const step = v?.plan.steps[0]
      if (step?.impl.role === 'source') {
        const vertex = v!.plan.index
        const requestSplit = (): void => (thread === 0 ? this.splitRequested(0, vertex) : this.init.send(0, { t: 'split-request', v: vertex }))
        this.runners.push(new SourceRunner(v!, step.impl.source, clock, this.graph.errors, { subtask: thread, subtasks: layout.threads, requestSplit }))
      }
    }
    for (const r of this.runners) await r.open(this.init.signal, p.name, p.options.bufferTimeoutMs)
    for (const v of this.graph.vertices) {
      if (v === undefined) continue
      const step = v.plan.steps[0]
      if (step.impl.role === 'sink') {
        const reject = sinkReject(this.graph, v, this.afterErrors.has(v.plan.index))
        v.sink = await openSink(step, { pipeline: p.name, stepId: v.plan.id, subtask: thread, parallelism: layout.subtasks(v.plan.index), checkpointing: this.init.checkpointing, reject, warn: (m: string) => this.sinkWarnings.add(m) } as Parameters<typeof openSink>[1])
        // The subtasks here that feed this sink wait for its pending writes: they are blocked on output.
        const feeders = v.plan.inputs.flatMap((x) => this.graph.vertices[x.from]?.metrics ?? [])
        v.pendingWrite = (w) => {
          this.writeSteps.set(w, v.plan.id)
          this.blocked.sinkPending(feeders)
          this.graph.pendingWrites.push(w)
        }
      }
      // An async step's (lookup) wait for room holds the sources back, as a sink's pending write does.
      if (step.impl.role !== 'source' && v.pendingWrite === undefined) v.pendingWrite = (w) => void this.graph.pendingWrites.push(w)
    }
  }

  /** Restores this thread's subtasks (before the first record), or starts them fresh; sinks recover either way. */
  async start(restore: ThreadRestore | undefined, splits: SourceSplits[] = []): Promise<void> {
    for (const s of splits) await this.runners.find((x) => x.vertex.plan.index === s.v)?.adopt(s.names)
    if (restore !== undefined) {
      for (const s of restore.sources) {
        const r = this.runners.find((x) => x.vertex.plan.index === s.vertex)
        if (r !== undefined) await r.restore(s.state)
      }
      for (const x of restore.vertices) {
        const v = this.graph.vertices[x.vertex]
        if (v === undefined) continue
        const state = x.state
        const op = v.operator
        if (state !== undefined && op?.restore !== undefined) {
          const restore = (): void => op.restore!(isEncodedKeyedRestore(state) ? openKeyedRestore(state) : state)
          const backend = this.graph.stateBackend(v.plan.id)
          if (backend !== undefined) backend.bulkLoad(restore)
          else restore()
        }
        if (x.wm !== undefined) {
          v.watermark = x.wm.watermark
          v.forwarded = x.wm.forwarded
          x.wm.inputs.forEach((w, i) => {
            if (i < v.inWm.length) v.inWm[i] = w
          })
        }
        this.inputs[x.vertex]?.restore(x.channels, v.inWm)
      }
      for (const m of restore.metrics) {
        const mt = this.graph.metrics.get(m.step)
        if (mt === undefined) continue
        mt.recordsIn = m.in
        mt.recordsOut = m.out
        mt.late = m.late
        mt.errors = m.errors
        mt.dropped = m.dropped
      }
    }
    for (const v of this.graph.vertices) {
      if (v?.sink === undefined) continue
      const inherited = restore?.sinks.find((s) => s.vertex === v.plan.index)?.inherited ?? []
      await recoverSink(v.sink, inherited)
    }
    if (this.letterCollector !== undefined) await this.letterCollector.recover(restore?.deadLetters ?? [], restore?.checkpointId)
    for (const r of this.runners) r.start()
    this.afterSources()
  }

  /** An item from thread `from` (or a command of thread 0 to itself). */
  receive(from: number, items: Item[], data: boolean): void {
    // The control plane's questions are answered at once, between batches, even while a sink write holds the loop.
    if (items.some((it) => it.t === 'inspect-window')) {
      for (const it of items) if (it.t === 'inspect-window') this.init.report({ t: 'window', thread: this.thread, id: it.id, window: windowView(this, it.step, it.key, it.time) })
      this.init.flush()
      items = items.filter((it) => it.t !== 'inspect-window')
      if (items.length === 0 && !data) return
    }
    this.inbound.push({ from, items, data })
    this.notify()
  }

  command(c: Command): void {
    this.receive(this.thread, [c], false)
  }

  fail(e: unknown): void {
    if (this.failure === undefined) this.failure = e
    this.delivery.abandon(this.failure)
    this.notify()
  }

  notify(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  /** The loop: until thread 0 says `close`. Throws the first failure. */
  async run(): Promise<void> {
    let lastYield = performance.now()
    this.delivery.turn()
    const batchSize = this.init.pipeline.options.batchSize
    for (;;) {
      this.check()
      await this.unpaused()
      let progressed = await this.drainInbound()
      if (this.closing !== undefined) break
      if (this.inject !== undefined && !this.holdsBarrier(this.inject.spec)) {
        await this.injectBarrier()
        progressed = true
      }
      if (this.commits.length > 0) await this.commitSinks()
      this.blocked.credit(this.anyReads() && this.round === undefined, this.init.hasCredit(), this.readingSources)
      if (this.round === undefined && this.init.hasCredit()) {
        for (const r of this.runners) {
          if (!this.reads(r)) continue
          if (r.step(batchSize)) {
            progressed = true
            this.afterBatch()
            await this.settleWrites()
          }
        }
      }
      this.afterSources()
      await this.unpaused()
      const now = this.init.clock.now()
      if (this.graph.nextProcessingTimer() <= now) {
        this.graph.fireProcessingTimers(now)
        this.afterBatch()
        await this.unpaused()
      }
      for (const r of this.runners) r.checkIdle(now)
      this.checkDrained()
      this.nextTick = this.init.tick?.() ?? Infinity
      // Not before waiting: a thread never waits while it holds others back for being ahead (two threads ahead
      // of each other on different exchanges would wait for each other).
      this.giveCredits(!progressed)
      this.init.flush()
      const t = performance.now()
      if (t - this.lastMetrics >= METRICS_EVERY_MS) this.reportMetrics()
      if (!progressed) {
        await this.waitForWork()
        lastYield = performance.now()
        this.delivery.turn()
      } else if (t - lastYield >= YIELD_EVERY_MS) {
        // Let messages, timers and signals in between batches of synchronous sources.
        await new Promise<void>((resolve) => setImmediate(resolve))
        lastYield = performance.now()
        this.delivery.turn()
      }
    }
    await this.close(this.closing.commit)
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure instanceof SluiceError ? this.failure : internalError(`thread ${this.thread} of pipeline '${this.init.pipeline.name}' failed: ${errorMessage(this.failure)}`, { cause: this.failure })
  }

  /**
   * After a batch: error records and dead letters go on, records sent to other threads go out. While a step is
   * paused they wait for the end of the held delivery (as they would for the end of the batch without a pause).
   */
  private afterBatch(): void {
    if (this.delivery.paused) return
    this.flushErrors()
    this.flushLetters()
    this.init.flush()
  }

  /** Sources that ended send their end of input; the errors vertex follows the sources' watermark. */
  private afterSources(): void {
    for (const r of this.runners) {
      const i = r.vertex.plan.index
      if (r.done && !this.finished[i]) this.finishVertex(r.vertex)
    }
    const ev = this.errorsVertex
    if (ev !== undefined && this.runners.length > 0) ev.setWatermark(Math.min(...this.runners.map((r) => r.vertex.watermark)))
  }

  /** Handles what other threads sent, in order; a sink's pending write holds the rest back (backpressure). */
  private async drainInbound(): Promise<boolean> {
    let any = false
    while (this.inbound.length > 0) {
      const { from, items, data } = this.inbound.shift()!
      any = true
      for (const it of items) {
        // Items after one whose delivery paused a step wait behind it, in order.
        if (this.delivery.paused) this.delivery.defer(() => this.handle(from, it))
        else this.handle(from, it)
      }
      this.afterBatch()
      if (data) {
        this.deferredAcks[from]++
        this.giveCredits()
      }
      await this.settleWrites()
      this.check()
      if (this.closing !== undefined) break
    }
    return any
  }

  /**
   * Credits go back to senders none of whose channels waits for a barrier here and which are not far ahead (then
   * the sender is held back). `all`: this thread is about to wait, so it holds back no one for being ahead.
   */
  private giveCredits(all = false): void {
    for (let t = 0; t < this.deferredAcks.length; t++) {
      const n = this.deferredAcks[t]
      if (n === 0) continue
      if (this.aligningBarrier() || (!all && this.heldFrom(t) >= HELD_PER_SENDER)) continue
      this.deferredAcks[t] = 0
      this.init.giveCredit(t, n)
    }
  }

  private aligningBarrier(): boolean {
    if (this.round === undefined) return false
    for (const x of this.inputs) if (x !== undefined && x.gate.aligning) return true
    return false
  }

  /**
   * Batches from `thread` held for watermark alignment on exchanges into this thread. A sender far ahead of the
   * others' watermarks waits for its credits: what it sends would be held here (memory that survives young
   * collections) until they catch up.
   */
  private heldFrom(thread: number): number {
    let n = 0
    for (const x of this.inputs) {
      if (x === undefined) continue
      const kinds = this.init.layout.inputs[x.vertex.plan.index]
      for (let i = 0; i < kinds.length; i++) if (kinds[i].kind !== 'forward') n += x.inputs[i].heldFrom(thread)
    }
    return n
  }

  private handle(from: number, it: Item): void {
    switch (it.t) {
      case 'data':
        this.inputs[it.v]!.data(it.input, it.ch, it.batch)
        return
      case 'wm':
        this.inputs[it.v]!.watermark(it.input, it.ch, it.wm)
        return
      case 'idle':
        this.inputs[it.v]!.idle(it.input, it.ch)
        return
      case 'barrier':
        this.inputs[it.v]!.barrier(it.input, it.ch)
        return
      case 'eof':
        this.inputs[it.v]!.eof(it.input, it.ch)
        return
      case 'letters':
        this.letterCollector?.letters(from, it.letters)
        return
      case 'letters-barrier':
        this.letterCollector?.marker(from, it.id, it.drain)
        return
      case 'split-request':
        this.splitRequested(from, it.v)
        return
      case 'split':
        this.runners.find((r) => r.vertex.plan.index === it.v)?.assign(it.split)
        return
      case 'checkpoint':
        this.inject = { id: it.id, spec: it.spec }
        return
      case 'commit':
        this.commits.push(it.id)
        return
      case 'stop':
        this.stopped = true
        return
      case 'close':
        this.closing = { commit: it.commit }
        return
      default:
        throw internalError(`thread ${this.thread} received an unexpected '${it.t}' item`)
    }
  }

  /** Thread 0: the partitions of its sources that name them, for the other threads to take before they restore. */
  splitNames(): SourceSplits[] {
    const out: SourceSplits[] = []
    for (const r of this.runners) {
      const names = r.splitNames()
      if (names !== undefined) out.push({ v: r.vertex.plan.index, names })
    }
    return out
  }

  /** Thread 0: subtask `from` of source vertex `v` has read its splits; once the pool is empty, every subtask hears so. */
  private splitRequested(from: number, v: number): void {
    const r = this.runners.find((x) => x.vertex.plan.index === v)!
    const split = r.nextSplit()
    this.giveSplit(from, v, split)
    if (split !== null && r.poolEmpty) for (let t = 0; t < this.init.layout.threads; t++) this.giveSplit(t, v, null)
  }

  private giveSplit(to: number, v: number, split: number | null): void {
    if (to === this.thread) this.runners.find((x) => x.vertex.plan.index === v)?.assign(split)
    else this.init.send(to, { t: 'split', v, split })
  }

  /**
   * Records bound to input `input` of vertex `v` on another thread that cannot be sent (not plain data): each goes
   * to the error path of the step that produced it (here), with its position, as a record a sink cannot write
   * does at parallelism 1; the message names the step it was sent to.
   */
  unsendable(v: number, input: number, batch: Batch, rows: number[]): void {
    const { vertices } = this.init.plan
    const to = vertices[v].steps[0].id
    const from = vertices[vertices[v].inputs[input].from].steps.at(-1)!.id
    for (const i of rows) this.graph.errors.report(from, unsendable(from, to), plainCopy(batch.values[i]), batch.times[i], batch.pos?.[i])
  }

  /** Thread 0 under `dead-letter`: dead letters of every thread, aligned with barriers. */
  letterCollector: DeadLetterCollector | undefined

  /** Waits for source reads in flight, snapshots the sources and sends barrier `id` on from them. */
  private async injectBarrier(): Promise<void> {
    const { id, spec } = this.inject!
    this.inject = undefined
    const t0 = performance.now()
    for (const r of this.runners) await r.quiesce()
    this.afterBatch()
    if (this.holdsBarrier(spec)) {
      this.inject = { id, spec } // the reads just handled took a source where it cannot resume from
      return
    }
    if (spec.kind !== 'checkpoint') this.snapshots.reset()
    this.round = { id, spec, passed: new Set(), heldErrors: [], heldLetters: [], lettersSent: false }
    for (const r of this.runners) {
      const v = r.vertex
      const ack: Ack =
        spec.kind === 'drain'
          ? { id, vertex: v.plan.index, subtask: this.thread, ms: 0, kind: 'drained' }
          : { id, vertex: v.plan.index, subtask: this.thread, ms: performance.now() - t0, kind: 'source', state: r.snapshot(), owned: r.owned, wm: wmOf(v), steps: this.stepsOf(v) }
      this.passed(v, ack)
    }
    if (this.round !== undefined && this.localVertices === this.round.passed.size) this.endRound(this.round)
  }

  /** Vertex `v` has the barrier on every input: snapshot it (a sink pre-commits) and pass the barrier on. */
  private aligned(v: Vertex): void | Promise<void> {
    const round = this.round
    if (round === undefined) throw internalError(`step '${v.plan.id}' aligned a barrier that no checkpoint sent`)
    const { id, spec } = round
    const inputs = this.inputs[v.plan.index]!
    const alignmentMs = inputs.gate.alignmentMs
    if (spec.kind === 'drain') {
      inputs.releaseHeld()
      this.afterBatch()
      this.passed(v, { id, vertex: v.plan.index, subtask: this.thread, ms: 0, kind: 'drained' })
      return
    }
    if (v.sink !== undefined) {
      const sink = v.sink
      return (async () => {
        await this.settleWrites()
        const t0 = performance.now()
        const list = this.uncommitted.get(v.plan.index) ?? []
        if (sink.preCommit !== undefined) list.push({ checkpointId: id, handle: await sink.preCommit(id) })
        this.uncommitted.set(v.plan.index, list)
        this.passed(v, { id, vertex: v.plan.index, subtask: this.thread, ms: performance.now() - t0, kind: 'sink', pending: list.slice(), wm: wmOf(v), steps: this.stepsOf(v), alignmentMs })
        this.init.flush()
      })()
    }
    // An async step's lookups in flight finish (and emit) before the barrier passes it.
    const inFlight = v.operator?.drain?.()
    if (inFlight !== undefined) {
      return inFlight.then(() => {
        this.snapshotOperator(v, id, spec, alignmentMs)
        this.init.flush()
      })
    }
    this.snapshotOperator(v, id, spec, alignmentMs)
  }

  private snapshotOperator(v: Vertex, id: number, spec: Round['spec'], alignmentMs: number): void {
    const inputs = this.inputs[v.plan.index]!
    const t0 = performance.now()
    this.flushErrors()
    const backend = this.graph.stateBackend(v.plan.id)
    const write = () => this.snapshots.write(v, id, spec)
    const { files, bytes, delta } = backend !== undefined ? backend.snapshotReads(write) : write()
    if (files !== undefined) v.metrics.stateBytes = delta ? v.metrics.stateBytes + bytes : bytes
    const channels = inputs.channelState()
    const stateSize = files !== undefined ? backend?.approximateBytes() : undefined
    this.passed(v, { id, vertex: v.plan.index, subtask: this.thread, ms: performance.now() - t0, kind: 'operator', files, plain: undefined, delta, bytes, ...(stateSize !== undefined ? { stateSize } : {}), wm: wmOf(v), steps: this.stepsOf(v), channels, alignmentMs })
  }

  /** `v` passed the barrier: acknowledge, pass it on, and let the errors vertex follow once all others have. */
  private passed(v: Vertex, ack: Ack): void {
    const round = this.round!
    // Error records and letters still here were made before `v` passed (a held delivery or a sink's last writes
    // keep them past the end of their batch): they go out as before the barrier, not after it.
    this.flushErrors()
    this.flushLetters()
    round.passed.add(v.plan.index)
    this.init.report({ t: 'ack', ack })
    for (const o of this.outlets[v.plan.index]) o.barrier(round.id)
    const ev = this.errorsVertex
    if (ev !== undefined && !round.passed.has(ev.plan.index) && this.othersPassed(round)) {
      this.flushErrors()
      const evAck: Ack = round.spec.kind === 'drain' ? { id: round.id, vertex: ev.plan.index, subtask: this.thread, ms: 0, kind: 'drained' } : { id: round.id, vertex: ev.plan.index, subtask: this.thread, ms: 0, kind: 'operator', files: undefined, plain: undefined, delta: false, bytes: 0, wm: wmOf(ev), steps: this.stepsOf(ev), channels: [], alignmentMs: 0 }
      this.passed(ev, evAck)
      for (const b of round.heldErrors.splice(0)) ev.emit(b)
    }
    if (!round.lettersSent && this.othersPassed(round)) this.sendLettersBarrier(round)
    if (round.passed.size === this.localVertices) this.endRound(round)
  }

  /** Every local vertex outside the errors vertex's downstream has passed the round's barrier. */
  private othersPassed(round: Round): boolean {
    for (const v of this.graph.vertices) if (v !== undefined && !this.afterErrors.has(v.plan.index) && !round.passed.has(v.plan.index)) return false
    return true
  }

  private endRound(round: Round): void {
    if (this.round !== round) return
    if (!round.lettersSent) this.sendLettersBarrier(round)
    this.round = undefined
    this.giveCredits()
    this.afterBatch()
  }

  /** This thread's dead letters before the barrier are out: the writer on thread 0 may pre-commit. */
  private sendLettersBarrier(round: Round): void {
    round.lettersSent = true
    if (this.init.pipeline.options.onError !== 'dead-letter') return
    this.flushLetters()
    this.sendLetters({ t: 'letters-barrier', id: round.id, drain: round.spec.kind === 'drain' })
    if (round.heldLetters.length > 0) this.sendLetters({ t: 'letters', letters: round.heldLetters.splice(0) })
  }

  private sendLetters(it: Item): void {
    if (this.thread === 0) this.handle(0, it)
    else this.init.send(0, it)
  }

  /** Error records go to the errors vertex; while a barrier is passing, those of steps past it wait for it. */
  private flushErrors(): void {
    const g = this.graph
    if (g.errors.pending.length === 0) return
    const batch = g.errors.pending.take() as Batch<ErrorRecord>
    const ev = this.errorsVertex
    if (ev === undefined) {
      for (const r of batch.values) {
        const m = g.metrics.get(r.step)
        if (m !== undefined) m.dropped++
      }
      return
    }
    const round = this.round
    if (round === undefined || round.passed.has(ev.plan.index)) {
      ev.emit(batch)
      return
    }
    const [before, after] = splitBatch(batch, (r) => round.passed.has(this.vertexOfStep.get((r as ErrorRecord).step) ?? -1))
    if (before !== undefined) ev.emit(before)
    if (after !== undefined) round.heldErrors.push(after as Batch<ErrorRecord>)
  }

  /** Dead letters go to the writer on thread 0; while a barrier is passing, those of steps past it wait. */
  private flushLetters(): void {
    const letters = this.graph.errors.letters
    if (letters.length === 0) return
    this.graph.errors.letters = []
    const round = this.round
    if (round === undefined || round.lettersSent) {
      this.sendLetters({ t: 'letters', letters })
      return
    }
    const before: DeadLetter[] = []
    for (const l of letters) {
      if (round.passed.has(this.vertexOfStep.get(l.step) ?? -1)) round.heldLetters.push(l)
      else before.push(l)
    }
    if (before.length > 0) this.sendLetters({ t: 'letters', letters: before })
  }

  /** Every input of `v` has ended: it emits what it still holds, then its consumers' inputs end. */
  private ended(v: Vertex): void {
    const inFlight = v.operator?.drain?.()
    if (inFlight === undefined) return this.finishVertex(v)
    inFlight.then(
      () => {
        this.finishVertex(v)
        this.afterBatch()
        this.wake?.()
      },
      (e: unknown) => this.fail(e),
    )
  }

  private finishVertex(v: Vertex): void {
    const i = v.plan.index
    if (this.finished[i]) return
    this.finished[i] = true
    this.finishedCount++
    if (v.plan.role !== 'source') {
      v.setWatermark(Infinity)
      v.operator?.finish?.(v)
    }
    this.flushErrors()
    for (const o of this.outlets[i]) o.eof()
    const ev = this.errorsVertex
    if (ev !== undefined && !this.finished[ev.plan.index] && this.othersFinished()) {
      this.flushErrors()
      ev.setWatermark(Infinity)
      this.finishVertex(ev)
    }
  }

  private othersFinished(): boolean {
    for (const v of this.graph.vertices) if (v !== undefined && !this.afterErrors.has(v.plan.index) && !this.finished[v.plan.index]) return false
    return true
  }

  /** Every subtask here has ended: tell thread 0 (once). */
  private checkDrained(): void {
    if (this.drainedReported || this.finishedCount < this.localVertices) return
    this.flushErrors()
    this.flushLetters()
    this.drainedReported = true
    this.init.report({ t: 'drained', thread: this.thread })
  }

  /** Checkpoint(s) up to the first queued id are durable: sinks make what they pre-committed visible. */
  private async commitSinks(): Promise<void> {
    while (this.commits.length > 0) {
      const id = this.commits.shift()!
      for (const [vertex, list] of this.uncommitted) {
        const sink = this.graph.vertices[vertex]!.sink!
        while (list.length > 0 && list[0].checkpointId <= id) {
          const p = list.shift()!
          await sink.commit?.(p.checkpointId, p.handle)
          failpoint('sink-commit')
        }
      }
      for (const { writer } of this.graph.sinks()) await writer.onCheckpointComplete?.(id)
      await this.letterCollector?.commitUpTo(id)
      for (const r of this.runners) await r.checkpointComplete(id)
      this.init.report({ t: 'committed', thread: this.thread, id })
    }
  }

  private readonly writeSteps = new WeakMap<Promise<void>, string>()

  /** Waits for the sinks' pending writes, for at most the pipeline's sinkWriteTimeout (see write-watch.ts). */
  private async settleWrites(): Promise<void> {
    await this.unpaused()
    const w = this.graph.pendingWrites
    if (w.length === 0) return
    const { sinkWriteTimeoutMs, stopTimeoutMs } = this.init.pipeline.options
    this.blocked.sinkWaitStarts()
    while (w.length > 0) await settleWithin(w.splice(0), { timeoutMs: sinkWriteTimeoutMs, stopTimeoutMs, signal: this.init.signal, stepOf: this.writeSteps, ...(this.init.onStuck ? { onStuck: this.init.onStuck } : {}) })
    this.blocked.sinkWaitEnds()
  }

  /** Source `r` reads now: it has input left, and no stop is asked for or it holds a barrier back (see `holdsBarrier`). */
  private reads(r: SourceRunner): boolean {
    return !r.done && (!this.stopped || r.holdsBarriers)
  }

  private anyReads(): boolean {
    return this.runners.some((r) => this.reads(r))
  }

  /**
   * A checkpoint or savepoint asked for waits while one of this thread's sources stands where it could not
   * resume from (part way through an initial snapshot): its barrier goes out once the source is past it.
   */
  private holdsBarrier(spec: BarrierSpec): boolean {
    return spec.kind !== 'drain' && this.runners.some((r) => r.holdsBarriers)
  }

  /**
   * A delivery held behind a paused step (a slow user function) goes on, and ends, before anything else happens
   * on this thread; then what waited for the end of the batch (errors, letters, sends) goes out.
   */
  private async unpaused(): Promise<void> {
    const held = this.delivery.idle()
    if (held === undefined) return
    await held.catch(() => {})
    this.check()
    this.afterBatch()
  }

  private readonly readingSources = (): StepMetrics[] => this.runners.filter((r) => !r.done).map((r) => r.vertex.metrics)

  private async waitForWork(): Promise<void> {
    if (this.inbound.length > 0 || this.failure !== undefined || (this.inject !== undefined && !this.holdsBarrier(this.inject.spec)) || this.closing !== undefined) return
    const waits: Promise<unknown>[] = [new Promise<void>((r) => (this.wake = r))]
    const now = this.init.clock.now()
    if (this.round === undefined && this.init.hasCredit()) for (const r of this.runners) if (this.reads(r)) waits.push(...r.waitables())
    const wakeAt = Math.min(this.graph.nextProcessingTimer(), ...this.runners.map((r) => r.nextIdleCheck()), this.lastMetrics + METRICS_EVERY_MS, this.nextTick)
    const readable = this.round === undefined && this.init.hasCredit() && this.runners.some((r) => this.reads(r) && r.waitables().length === 0)
    // A source that returned null without a promise is polled again within the buffer timeout.
    const delay = readable ? Math.min(POLL_MS, this.init.pipeline.options.bufferTimeoutMs) : Math.max(0, Math.min(wakeAt - now, 1000))
    let timer: NodeJS.Timeout | undefined
    waits.push(new Promise<void>((r) => (timer = setTimeout(r, delay))))
    await Promise.race(waits)
    if (timer !== undefined) clearTimeout(timer)
    this.wake = undefined
  }

  private stepsOf(v: Vertex): import('../../core/metrics.ts').StepMetricsJson[] {
    return v.plan.steps.map((s) => this.graph.metrics.get(s.id)!.toJSON())
  }

  /** Gauges of this thread's subtasks, brought up to date before the registry is read. */
  private refreshGauges(): void {
    this.graph.refreshGauges(this.init.clock.now())
    for (const r of this.runners) {
      r.vertex.metrics.bytesIn = r.bytesRead
      r.refreshLag()
    }
    for (const v of this.graph.vertices) if (v?.hotKeys !== undefined) v.metrics.hotKeys = topKeys(v.hotKeys)
    this.blocked.chargeOngoing(this.readingSources)
  }

  /** The event-time warnings of this thread's sources (a watermark that jumped by more than a day). */
  /** What sinks said of this run when they opened (see `SinkContext.warn`). */
  private readonly sinkWarnings = new Set<string>()

  warnings(): string[] {
    return [...this.runners.flatMap((r) => r.guard.warnings), ...this.sinkWarnings]
  }

  /** Cursor into this thread's quality results: those after it go with the next report. */
  private qualitySent = 0

  /**
   * A worker thread posts its figures to thread 0, whose registry reads its own subtasks directly, with what its
   * subtasks show the control plane (late samples, partitions, watermarks, new quality results).
   */
  reportMetrics(): void {
    this.lastMetrics = performance.now()
    if (this.thread === 0) return
    const warnings = this.warnings()
    const { results, next } = qualityResultsSince(this.init.pipeline.name, this.qualitySent, QUALITY_PER_REPORT)
    this.qualitySent = next
    const inspection = { ...threadInspection(this, true), quality: results }
    this.init.report({ t: 'metrics', thread: this.thread, data: this.init.registry.export(), ...(warnings.length > 0 ? { warnings } : {}), inspection })
  }

  /** The end of the run on this thread: sinks close (after their last commit), sources and state close. */
  private async close(_commit: boolean): Promise<void> {
    await this.settleWrites()
    for (const { writer } of this.graph.sinks()) await writer.close()
    await Promise.allSettled(this.runners.map((r) => r.close()))
    // The last figures (sinks' bytes final, state not yet closed) stay as they are from here on.
    this.refreshGauges()
    this.init.registry.onRead = undefined
    this.reportMetrics()
    this.graph.closeState()
    await this.init.spans?.close()
    this.init.report({ t: 'closed', thread: this.thread })
    this.init.flush()
  }

  /** After a failure: closes what can be closed, best effort. */
  async abandon(): Promise<void> {
    this.init.registry.onRead = undefined
    await Promise.allSettled([...this.graph.sinks().map(({ writer }) => writer.close()), ...this.runners.map((r) => r.close()), this.init.spans?.close()])
    try {
      this.graph.closeState()
    } catch {
      // already failing
    }
  }

}

function wmOf(v: Vertex): { watermark: number; forwarded: number; inputs: number[] } {
  return { watermark: v.watermark, forwarded: v.forwarded, inputs: v.inWm.slice() }
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
