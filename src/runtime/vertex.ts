import type { Batch } from '../core/batch.ts'
import type { Operator, Output } from '../core/operator.ts'
import type { SinkWriter } from '../core/sink.ts'
import { KEY_GROUP_SAMPLE, type StepMetrics } from '../core/metrics.ts'
import { DEFAULT_KEY_GROUPS, keyGroupOf } from '../core/key.ts'
import type { PlanVertex } from '../plan/physical-plan.ts'
import { emptyHistogram, observe, observeTimes } from '../core/latency-histogram.ts'
import { ingestion, stamp } from './ingestion.ts'
import { SpaceSaving } from '../observe/hot-keys/space-saving.ts'
import type { SpanRecorder } from '../observe/trace/step-spans.ts'
import { stampTrace, tracing } from './batch-trace.ts'

/** Keys a keyed step's sketch keeps (every key above 1/64 of its records is among them). */
const SKETCH_KEYS = 64
/** A sketch counts every key of its first records, then samples one in 8: hot keys of long streams still stand out, at an eighth of the cost. */
const SKETCH_SAMPLING = { exactFor: 65_536, every: 8 }

/** Time (ms) spent in the calls nested in the one being timed: a vertex's busy time leaves out its consumers'. */
const nested = { ms: 0 }
import { LateReservoir } from './late-samples.ts'

export interface Consumer {
  vertex: Vertex
  input: number
  tag: string | undefined
  key: ((value: any) => unknown) | undefined
}

/**
 * A running vertex: an operator (or fused chain, or sink) with its input watermarks. Watermarks combine
 * by minimum over inputs that are not idle, and only move forward.
 */
export class Vertex implements Output {
  readonly plan: PlanVertex
  readonly metrics: StepMetrics
  operator: Operator | undefined
  sink: SinkWriter<unknown> | undefined
  readonly consumers: Consumer[] = []
  readonly inWm: number[]
  readonly inIdle: boolean[]
  watermark = -Infinity
  /** The watermark sent downstream: the input watermark, or less where the operator holds it back. */
  forwarded = -Infinity
  private idle = false
  /** A sample of the late records this step diverted, for the control plane. */
  readonly lateSamples = new LateReservoir()
  private lateSeen = 0
  /** Unconsumed side outputs are counted here. */
  readonly droppedSide = new Map<string, number>()
  /** Filled by the graph: called with a sink's pending write (or an async step's wait for room), for backpressure. */
  pendingWrite: (p: Promise<void>) => void = () => {}
  /** Filled by the graph: delivers a batch to a consumer (computing keys when the edge is keyed). */
  deliver: (c: Consumer, batch: Batch) => void = () => {}
  /** Filled by the graph: the run's processing-time clock, which sinks measure latency with. */
  now: () => number = Date.now
  /** A keyed step's most frequent keys, from the keys of the batches it receives. */
  hotKeys: SpaceSaving<unknown> | undefined
  /** Filled by the executor when the run is traced: spans of the traced batches this step handles. */
  spans: SpanRecorder | undefined
  /** This subtask's index, for span attributes. */
  subtask = 0
  private keyedBatches = 0

  constructor(plan: PlanVertex, metrics: StepMetrics) {
    this.plan = plan
    this.metrics = metrics
    const n = Math.max(plan.inputs.length, 1)
    this.inWm = new Array<number>(n).fill(-Infinity)
    this.inIdle = new Array<boolean>(n).fill(false)
  }

  /** A batch arrives on `input`. */
  push(batch: Batch, input: number): void {
    const t0 = performance.now()
    const outer = nested.ms
    nested.ms = 0
    try {
      if (batch.trace === undefined) this.handle(batch, input)
      else this.traced(batch, input)
    } finally {
      const ms = performance.now() - t0
      this.metrics.busyMs += ms - nested.ms
      nested.ms = outer + ms
    }
  }

  /**
   * A batch with trace context: handled in a span of this step when the run is traced (within its budget), and
   * what the step emits meanwhile carries this span's context on, or the batch's own when there is no span.
   */
  private traced(batch: Batch, input: number): void {
    const parent = batch.trace!
    const span = this.spans?.open(parent)
    const prev = tracing.current
    tracing.current = span?.traceparent ?? parent
    // A sink writes the context of its own span into record headers.
    batch.trace = tracing.current
    let error: string | undefined
    try {
      this.handle(batch, input)
    } catch (e) {
      const code = (e as { code?: unknown }).code
      error = typeof code === 'string' && code.startsWith('SLUICE_') ? code : 'the step failed'
      throw e
    } finally {
      tracing.current = prev
      batch.trace = parent
      if (span !== undefined) {
        const role = this.sink !== undefined ? 'sink' : 'step'
        this.spans!.end(span, `${role} ${this.plan.id}`, { 'sluice.step': this.plan.id, 'sluice.subtask': this.subtask, 'sluice.records': batch.values.length }, error)
      }
    }
  }

  private handle(batch: Batch, input: number): void {
    if (this.sink !== undefined) {
      this.metrics.recordsIn += batch.values.length
      this.metrics.recordsOut += batch.values.length
      const p = this.sink.write(batch)
      if (p !== undefined) this.pendingWrite(p)
      this.measureLatency(batch, p)
      return
    }
    if (this.plan.role !== 'chain') this.metrics.recordsIn += batch.values.length
    if (batch.keys !== undefined) {
      ;(this.hotKeys ??= new SpaceSaving(SKETCH_KEYS, SKETCH_SAMPLING)).offerBatch(batch.keys)
      if (this.keyedBatches++ % KEY_GROUP_SAMPLE === 0) this.countKeyGroups(batch.keys)
    }
    // What the operator emits while handling this batch inherits its ingestion time (see ingestion.ts).
    const prev = ingestion.at
    if (batch.ingestedAt !== undefined) ingestion.at = batch.ingestedAt
    try {
      this.operator!.process(batch, this, input)
    } finally {
      ingestion.at = prev
    }
    const room = this.operator!.waitForRoom?.()
    if (room !== undefined) this.pendingWrite(room)
  }

  /** Records per key group, from one keyed batch in KEY_GROUP_SAMPLE: a hash per record of the batches counted. */
  private countKeyGroups(keys: unknown[]): void {
    const counts = (this.metrics.keyGroupRecords ??= new Array<number>(DEFAULT_KEY_GROUPS).fill(0))
    for (let i = 0; i < keys.length; i++) counts[keyGroupOf(keys[i])] += KEY_GROUP_SAMPLE
  }

  /** A sink's end-to-end latency: once the write is done, time since ingestion and since event time. */
  private measureLatency(batch: Batch, pending: void | Promise<void>): void {
    const n = batch.values.length
    if (n === 0) return
    const lat = (this.metrics.latency ??= { ingest: emptyHistogram(), eventTime: emptyHistogram() })
    const at = batch.ingestedAt ?? (ingestion.at === ingestion.at ? ingestion.at : undefined)
    const record = (): void => {
      const now = this.now()
      if (at !== undefined) observe(lat.ingest, now - at, n)
      observeTimes(lat.eventTime, now, batch.times)
    }
    if (pending === undefined) record()
    else pending.then(record, () => {})
  }

  emit(batch: Batch): void {
    if (batch.values.length === 0) return
    stamp(batch)
    stampTrace(batch)
    if (this.plan.role === 'source' || this.plan.role === 'errors') this.metrics.recordsOut += batch.values.length
    for (const c of this.consumers) if (c.tag === undefined) this.deliver(c, batch)
  }

  side(tag: string, batch: Batch): void {
    if (batch.values.length === 0) return
    // Operators count their late output just before they emit it (flushOutputs): a side batch that came with
    // a rise of the late counter is late records.
    if (this.metrics.late > this.lateSeen) {
      this.lateSeen = this.metrics.late
      this.lateSamples.offer(batch, Date.now())
    }
    let consumed = false
    for (const c of this.consumers) {
      if (c.tag === tag) {
        consumed = true
        this.deliver(c, batch)
      }
    }
    if (!consumed) {
      this.droppedSide.set(tag, (this.droppedSide.get(tag) ?? 0) + batch.values.length)
      this.metrics.dropped += batch.values.length
    }
  }

  /** An input's watermark arrived. */
  inputWatermark(input: number, wm: number): void {
    this.inIdle[input] = false
    if (wm > this.inWm[input]) this.inWm[input] = wm
    this.advance()
  }

  inputIdle(input: number): void {
    this.inIdle[input] = true
    this.advance()
  }

  /** Sets this vertex's own watermark (sources) and forwards it. */
  setWatermark(wm: number): void {
    if (wm > this.watermark) {
      this.watermark = wm
      const held = this.operator?.onWatermark?.(wm, this)
      // An operator that will still emit records older than its input watermark holds the output back.
      const out = typeof held === 'number' && held < wm ? held : wm
      if (out > this.forwarded) this.forwarded = out
      else if (!this.idle) return
    } else if (!this.idle) {
      return
    }
    this.idle = false
    for (const c of this.consumers) c.vertex.inputWatermark(c.input, this.forwarded)
  }

  /** An operator that held the watermark back (see `Operator.onWatermark`) lets it go up to `wm`, at most the input watermark. */
  releaseWatermark(wm: number): void {
    const out = Math.min(wm, this.watermark)
    if (out <= this.forwarded) return
    this.forwarded = out
    this.idle = false
    for (const c of this.consumers) c.vertex.inputWatermark(c.input, out)
  }

  /** No input of this vertex is active: downstream stops waiting for its watermark. */
  markIdle(): void {
    if (this.idle) return
    this.idle = true
    for (const c of this.consumers) c.vertex.inputIdle(c.input)
  }

  private advance(): void {
    let min = Infinity
    let active = false
    for (let i = 0; i < this.inWm.length; i++) {
      if (this.inIdle[i]) continue
      active = true
      if (this.inWm[i] < min) min = this.inWm[i]
    }
    if (!active) {
      this.markIdle()
      return
    }
    this.setWatermark(min)
  }
}
