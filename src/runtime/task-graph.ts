import type { Batch } from '../core/batch.ts'
import type { Clock } from '../core/clock.ts'
import { StepMetrics } from '../core/metrics.ts'
import { MetricsRegistry } from '../observe/metrics/registry.ts'
import { readKeyGroupState } from '../observe/state-size/state-size.ts'
import type { ErrorPolicy, OperatorContext } from '../core/operator.ts'
import type { SinkWriter } from '../core/sink.ts'
import { HeapStateBackend } from '../state/heap/heap-backend.ts'
import { DurableStateBackend } from '../state/durable/durable-backend.ts'
import type { StateBackend } from '../core/state-backend.ts'
import { join } from 'node:path'
import { TimerQueue } from '../state/timers.ts'
import { defaultMemoryBudget, StateMemoryBudget } from '../state/memory/memory-budget.ts'
import { parseByteSize } from '../core/byte-size.ts'
import type { SluiceError } from '../core/errors.ts'
import type { StateOptions } from '../core/state-options.ts'
import { FusedChain } from '../operators/stateless/fused-chain.ts'
import { chainLinks, type PhysicalPlan } from '../plan/physical-plan.ts'
import { PolicyErrorSink } from './error-sink.ts'
import { keyError } from '../core/record-errors.ts'
import { Vertex, type Consumer } from './vertex.ts'

export interface TaskGraphOptions {
  clock: Clock
  onError: ErrorPolicy
  subtask?: number
  parallelism?: number
  /** Vertices to instantiate (all by default); the others are reached through `remote`. */
  include?: (vertexIndex: number) => boolean
  /** Keyed state backend settings (the pipeline's `state` option). */
  state?: StateOptions
  /** Called once when keyed state on the heap grows past its memory budget: the job must fail with it. */
  onStateMemory?: (e: SluiceError) => void
  /** Where the figures of this thread's subtasks live (one registry per thread); a private one by default. */
  registry?: MetricsRegistry
  /** Called for a batch bound to a vertex that is not instantiated here. */
  remote?: (c: { to: number; input: number; key: Consumer['key'] }, batch: Batch) => void
}

/**
 * The running form of a physical plan in one thread: vertices wired to their consumers, one state backend
 * per keyed operator, processing-time timers, and the error policy.
 */
export class TaskGraph {
  readonly plan: PhysicalPlan
  readonly vertices: (Vertex | undefined)[]
  readonly metrics = new Map<string, StepMetrics>()
  readonly errors: PolicyErrorSink
  readonly procTimers = new TimerQueue()
  readonly pendingWrites: Promise<void>[] = []
  private readonly clock: Clock
  private readonly stateConfig: TaskGraphOptions['state']
  private readonly subtask: number
  private readonly stateBackends = new Map<string, StateBackend>()
  /** This thread's budget for keyed state on the heap. */
  readonly memory: StateMemoryBudget | undefined

  constructor(plan: PhysicalPlan, opts: TaskGraphOptions) {
    this.plan = plan
    this.clock = opts.clock
    this.stateConfig = opts.state
    this.subtask = opts.subtask ?? 0
    if (opts.state?.backend !== 'durable') {
      const limit = opts.state?.memoryBudget === undefined ? defaultMemoryBudget() : parseByteSize(opts.state.memoryBudget, 'state.memoryBudget')
      const onExceeded = opts.onStateMemory ?? ((e: SluiceError) => { throw e })
      this.memory = new StateMemoryBudget(limit, onExceeded)
    }
    this.errors = new PolicyErrorSink(opts.onError, (step) => this.metrics.get(step))
    const include = opts.include ?? (() => true)
    const registry = opts.registry ?? new MetricsRegistry({ pipeline: plan.pipeline, thread: this.subtask })
    // Every step is declared (plan order, a row of zeros); only the subtasks that run here are counted here.
    for (const v of plan.vertices) {
      for (const s of v.steps) {
        registry.declare(s.id, s.kind)
        this.metrics.set(s.id, include(v.index) ? registry.step(s.id, s.kind, this.subtask) : new StepMetrics(s.id, s.kind, this.subtask))
      }
    }
    this.vertices = plan.vertices.map((pv) => (include(pv.index) ? new Vertex(pv, this.metrics.get(pv.id)!) : undefined))
    const deliver = (c: Consumer, batch: Batch): void => {
      if (c.key === undefined) {
        c.vertex.push(batch, c.input)
        return
      }
      c.vertex.push(this.withKeys(batch, c.key, c.vertex.plan.id), c.input)
    }
    for (const v of this.vertices) {
      if (v === undefined) continue
      v.deliver = deliver
      v.now = () => this.clock.now()
      v.pendingWrite = (p) => void this.pendingWrites.push(p)
      for (const c of plan.consumers[v.plan.index]) {
        const target = this.vertices[c.to]
        if (target !== undefined) {
          v.consumers.push({ vertex: target, input: c.input, tag: c.tag, key: c.key })
        } else if (opts.remote !== undefined) {
          const remote = opts.remote
          const stub = { plan: { id: `remote-${c.to}` }, push: (b: Batch) => remote({ to: c.to, input: c.input, key: c.key }, b), inputWatermark: () => {}, inputIdle: () => {} }
          v.consumers.push({ vertex: stub as unknown as Vertex, input: c.input, tag: c.tag, key: undefined })
        }
      }
    }
    for (const v of this.vertices) {
      if (v === undefined) continue
      const pv = v.plan
      const step = pv.steps[0]
      if (pv.role === 'chain') {
        v.operator = new FusedChain(
          chainLinks(pv).map((l) => ({ ...l, metrics: this.metrics.get(l.stepId)! })),
          this.errors,
        )
      } else if (step.impl.role === 'operator') {
        v.operator = step.impl.build(this.operatorContext(v, opts))
      }
    }
  }

  private operatorContext(v: Vertex, opts: TaskGraphOptions): OperatorContext {
    const procTimers = this.procTimers
    return {
      pipeline: this.plan.pipeline,
      stepId: v.plan.id,
      subtask: opts.subtask ?? 0,
      parallelism: opts.parallelism ?? 1,
      clock: this.clock,
      metrics: v.metrics,
      errors: this.errors,
      state: this.newStateBackend(v.plan.id, () => v.watermark),
      currentWatermark: () => v.watermark,
      scheduleProcessingTime: (t) => procTimers.register(t, v.plan.index, v),
    }
  }

  /** The keyed state backend of step `step` on this thread, if it has one. */
  stateBackend(step: string): StateBackend | undefined {
    return this.stateBackends.get(step)
  }

  private newStateBackend(step: string, watermark: () => number): StateBackend {
    const cfg = this.stateConfig
    const opts = { clock: this.clock, watermark }
    const backend =
      cfg?.backend === 'durable'
        ? new DurableStateBackend({ ...opts, ...(cfg.dir !== undefined ? { path: join(cfg.dir, `${step}.${this.subtask}`) } : {}), ...(cfg.cacheEntries !== undefined ? { cacheEntries: cfg.cacheEntries } : {}), ...(cfg.cacheBytes !== undefined ? { cacheBytes: parseByteSize(cfg.cacheBytes, 'state.cacheBytes') } : {}) })
        : new HeapStateBackend({ ...opts, step, ...(this.memory !== undefined ? { memory: this.memory } : {}) })
    this.stateBackends.set(step, backend)
    return backend
  }

  /**
   * Brings the gauges of this thread's subtasks up to date: input watermark and lag behind `now` per step, and
   * for keyed steps the keys the operator holds and the entries of its state backend; bytes a sink wrote.
   */
  /** What each sink writer's `retries()` said at the last refresh. */
  private readonly sinkRetries = new Map<Vertex, number>()

  refreshGauges(now: number): void {
    for (const v of this.vertices) {
      if (v === undefined) continue
      const lag = Number.isFinite(v.watermark) ? now - v.watermark : NaN
      for (const s of v.plan.steps) {
        const m = this.metrics.get(s.id)!
        m.watermark = v.watermark
        m.inputLagMs = lag
      }
      const bytes = v.sink?.bytesWritten?.()
      if (bytes !== undefined) v.metrics.bytesOut = bytes
      // Added as a difference: the step's retries may also count its error policy's.
      const retries = v.sink?.retries?.()
      if (retries !== undefined) {
        v.metrics.retries += retries - (this.sinkRetries.get(v) ?? 0)
        this.sinkRetries.set(v, retries)
      }
      if (!v.plan.keyed) continue
      const backend = this.stateBackends.get(v.plan.id)
      const st = backend?.stats()
      if (backend !== undefined && st !== undefined) readKeyGroupState(backend, v.metrics, now, st.entries)
      // A step that does not count its keys (a process function's are its states' keys): as of the last walk of its key groups.
      v.metrics.stateKeys = v.operator?.keysHeld?.() ?? v.metrics.keyGroupKeys?.reduce((a, b) => a + b, 0) ?? 0
      v.metrics.stateEntries = st?.entries ?? 0
      v.metrics.stateEntriesWithoutTtl = st?.entriesWithoutTtl ?? 0
    }
  }

  /** Releases the state stores (a durable backend closes its files). */
  closeState(): void {
    for (const b of this.stateBackends.values()) b.close()
  }

  /**
   * Computes the key of each record for a keyed edge; a failing key function, or one that returns what cannot be a
   * key (SLUICE_BAD_KEY), follows the error policy.
   */
  withKeys(batch: Batch, key: (v: unknown) => unknown, stepId: string): Batch {
    const { values } = batch
    const keys = new Array<unknown>(values.length)
    let failed: number[] | undefined
    for (let i = 0; i < values.length; i++) {
      let k: unknown
      try {
        k = key(values[i])
      } catch (e) {
        this.errors.report(stepId, e, values[i], batch.times[i], batch.pos?.[i])
        ;(failed ??= []).push(i)
        continue
      }
      // Checked inline for the common primitive keys; anything else is looked at closely.
      if ((typeof k !== 'string' && typeof k !== 'number') || k !== k) {
        const bad = keyError(stepId, k)
        if (bad !== undefined) {
          this.errors.report(stepId, bad, values[i], batch.times[i], batch.pos?.[i])
          ;(failed ??= []).push(i)
          continue
        }
      }
      keys[i] = k
    }
    if (failed === undefined) return { ...batch, keys }
    const skip = new Set(failed)
    const keep = (_: unknown, i: number) => !skip.has(i)
    return {
      values: values.filter(keep),
      times: batch.times.filter(keep),
      keys: keys.filter(keep),
      ...(batch.kinds ? { kinds: batch.kinds.filter(keep) } : {}),
      ...(batch.pos ? { pos: batch.pos.filter(keep) } : {}),
      ...(batch.traces ? { traces: batch.traces.filter(keep) } : {}),
    }
  }

  /** Sends buffered error records to the `errors()` vertex, if there is one. */
  flushErrors(): void {
    if (this.errors.pending.length === 0) return
    const batch = this.errors.pending.take()
    const ev = this.vertices.find((v) => v?.plan.role === 'errors')
    if (ev === undefined) {
      for (const r of batch.values) {
        const m = this.metrics.get(r.step)
        if (m !== undefined) m.dropped++
      }
      return
    }
    ev.emit(batch)
  }

  /** Fires processing-time timers that are due. */
  fireProcessingTimers(now: number): void {
    for (let due = this.procTimers.pollUpTo(now); due !== undefined; due = this.procTimers.pollUpTo(now)) {
      for (const v of due.keys.values()) (v as Vertex).operator?.onProcessingTime?.(now, v as Vertex)
    }
  }

  /** Next processing-time timer, or +Infinity. */
  nextProcessingTimer(): number {
    return this.procTimers.peek()
  }

  /** End of all input: operators emit what they still hold, in topological order. */
  finish(): void {
    for (const v of this.vertices) if (v !== undefined && v.operator?.finish) v.operator.finish(v)
    this.flushErrors()
  }

  sinks(): { vertex: Vertex; writer: SinkWriter<unknown> }[] {
    return this.vertices.filter((v): v is Vertex => v?.sink !== undefined).map((v) => ({ vertex: v, writer: v.sink! }))
  }
}
