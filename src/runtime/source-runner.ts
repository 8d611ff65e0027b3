import type { Batch, Position } from '../core/batch.ts'
import type { Clock } from '../core/clock.ts'
import { parseDuration } from '../core/duration.ts'
import { SluiceError, errorMessage } from '../core/errors.ts'
import { END, type Source, type SourceRead, type SourceReader } from '../core/source.ts'
import type { WatermarkGenerator, WatermarkStrategy } from '../time/watermark.ts'
import { watermark as wmStrategies } from '../time/watermark.ts'
import type { PolicyErrorSink } from './error-sink.ts'
import type { SourceSnapshot } from '../checkpoint/manifest.ts'

export type { SourceSnapshot }

/** How often a source that can find new partitions looks for them, unless it says (`discoverEveryMs`). */
const DISCOVER_EVERY_MS = 30_000
import type { Vertex } from './vertex.ts'
import { EventTimeGuard } from './event-time-guard.ts'
import { withIngestion } from './ingestion.ts'
import { tracing } from './batch-trace.ts'


/**
 * This subtask's share of a source's partitions (splits). With `requestSplit`, a bounded source that allows it
 * (`assignSplitsOnDemand`, the file sources) with more splits than subtasks gives each subtask one split and keeps the rest on subtask 0, which hands them out one at a time
 * to subtasks whose splits have ended (asked through `requestSplit`, answered with `assign`), as FLIP-27's
 * enumerator does. A checkpoint keeps every split's position and whether it ended; a restore at any
 * parallelism assigns the splits that had not ended anew.
 */
export interface SplitAssignment {
  subtask: number
  subtasks: number
  requestSplit?: () => void
}

interface PartitionState {
  index: number
  ended: boolean
  idle: boolean
  lastDataAt: number
  wm: WatermarkGenerator
  pending: Promise<void> | undefined
}

/**
 * Reads one source: assigns event times, tracks a watermark per partition, combines them by minimum
 * (idle and ended partitions excluded), and pushes batches into the source vertex.
 */
export class SourceRunner {
  readonly vertex: Vertex
  readonly source: Source<unknown>
  private reader!: SourceReader<unknown>
  private parts: PartitionState[] = []
  private readonly clock: Clock
  private readonly idleTimeout: number
  private readonly eventTime: ((v: unknown) => number) | undefined
  private readonly errors: PolicyErrorSink
  private cursor = 0
  /** When this subtask last started a trace (performance.now ms). */
  private sampledAt = -Infinity
  private ready: { p: PartitionState; r: SourceRead<unknown> }[] = []
  recordsIn = 0
  private failure: SluiceError | undefined
  readonly guard: EventTimeGuard

  /**
   * Which partitions (splits) this subtask reads. By default p with p % subtasks === subtask. A bounded source
   * that allows it (`assignSplitsOnDemand`) with more splits than subtasks assigns them as they are needed
   * (see `SplitAssignment`).
   */
  private readonly split: SplitAssignment
  /** Splits are handed out one at a time by subtask 0's pool (bounded sources with more splits than subtasks). */
  private dynamic = false
  /** Subtask 0 of a dynamic source: the splits no subtask has been given yet, in order. */
  private pool: number[] = []
  /** Every split has been handed out: this subtask ends when its own splits have. */
  private noMoreSplits = true
  private requested = false
  /** What the restored checkpoint held for splits this subtask does not read (it reports them as it found them). */
  private restored: SourceSnapshot | undefined
  private strategy: WatermarkStrategy = wmStrategies.monotonic()
  /** Subtask 0 of a source whose partitions can grow (`discover`): the next look, and the one in flight. */
  private nextDiscoverAt = Infinity
  private discovery: Promise<void> | undefined

  constructor(vertex: Vertex, source: Source<unknown>, clock: Clock, errors: PolicyErrorSink, split: SplitAssignment = { subtask: 0, subtasks: 1 }) {
    this.split = split
    this.vertex = vertex
    this.source = source
    this.clock = clock
    this.errors = errors
    this.eventTime = source.options.eventTime
    this.guard = new EventTimeGuard(vertex.plan.id, source.options.maxFutureSkew)
    this.idleTimeout = source.options.idleTimeout === undefined ? Infinity : parseDuration(source.options.idleTimeout, `source '${vertex.plan.id}' idleTimeout`, { allowZero: false })
  }

  async open(signal: AbortSignal, pipeline: string, bufferTimeoutMs?: number): Promise<void> {
    const stepId = this.vertex.plan.id
    this.reader = await this.source.open({
      pipeline,
      stepId,
      signal,
      subtask: this.split.subtask,
      subtasks: this.split.subtasks,
      ...(bufferTimeoutMs !== undefined ? { bufferTimeoutMs } : {}),
      malformed: (error, raw, position: Position) => this.errors.malformed(stepId, error, raw, this.clock.now(), position),
      invalid: (error, record, position) => this.errors.report(stepId, error, record, this.clock.now(), position),
    })
    this.strategy = this.source.options.watermark ?? wmStrategies.monotonic()
    const now = this.clock.now()
    const { subtasks } = this.split
    this.parts = []
    this.dynamic = this.split.requestSplit !== undefined && subtasks > 1 && this.source.bounded && this.source.assignSplitsOnDemand === true && this.reader.partitions > subtasks
    if (this.dynamic) {
      this.assignFirst(new Array<boolean>(this.reader.partitions).fill(false))
      return
    }
    this.ownByIndex(now)
    if (this.discovering) this.nextDiscoverAt = now + (this.reader.discoverEveryMs ?? DISCOVER_EVERY_MS)
  }

  /** Partition p goes to subtask p mod N: this subtask's share of the reader's partitions, none read yet. */
  private ownByIndex(now: number): void {
    const { subtask, subtasks } = this.split
    this.parts = []
    for (let index = subtask; index < this.reader.partitions; index += subtasks) this.parts.push({ index, ended: false, idle: false, lastDataAt: now, wm: this.strategy.create(), pending: undefined })
  }

  /** Subtask 0 of an unbounded source that can find new partitions while it runs. */
  private get discovering(): boolean {
    return this.split.subtask === 0 && !this.source.bounded && !this.dynamic && this.reader?.discover !== undefined
  }

  /** The partitions' names in index order, for a source whose subtasks must agree on them (see `SourceReader.splits`). */
  splitNames(): string[] | undefined {
    return this.reader.splits?.()
  }

  /** Before the first read: take subtask 0's partitions (its `splitNames()`), in its order. */
  async adopt(names: string[]): Promise<void> {
    if (this.reader.adopt === undefined || this.dynamic) return
    await this.reader.adopt(names)
    this.ownByIndex(this.clock.now())
  }

  /** Subtask 0: looks for new partitions; what it finds, this subtask reads from now on. */
  private discover(): void {
    const known = this.reader.partitions
    this.discovery = this.reader.discover!().then(
      (n) => {
        for (let i = known; i < n; i++) this.addPart(i)
        if (n > known) this.updateWatermark()
      },
      (e) => {
        this.failure = this.readError(e)
      },
    )
    void this.discovery.finally(() => {
      this.discovery = undefined
      this.nextDiscoverAt = this.clock.now() + (this.reader.discoverEveryMs ?? DISCOVER_EVERY_MS)
    })
  }

  /**
   * The first assignment of a dynamic source, the same on every subtask: subtask k reads the k-th split that has
   * not ended, the others wait in subtask 0's pool until a subtask whose splits have ended asks for one.
   */
  private assignFirst(ended: boolean[]): void {
    const open: number[] = []
    for (let i = 0; i < ended.length; i++) if (!ended[i]) open.push(i)
    const { subtask, subtasks } = this.split
    this.parts = []
    if (subtask < open.length) this.addPart(open[subtask])
    this.pool = subtask === 0 ? open.slice(subtasks) : []
    this.noMoreSplits = open.length <= subtasks
    this.requested = false
  }

  private addPart(index: number): void {
    const p: PartitionState = { index, ended: false, idle: false, lastDataAt: this.clock.now(), wm: this.strategy.create(), pending: undefined }
    const wm = this.restored?.watermarks[index]
    if (wm !== undefined && wm !== null) p.wm.restore(wm)
    this.parts.push(p)
  }

  /** Subtask 0 of a dynamic source: the next split for a subtask that asks, or null when every split is out. */
  nextSplit(): number | null {
    return this.pool.shift() ?? null
  }

  /** Subtask 0 of a dynamic source: no split is left to hand out. */
  get poolEmpty(): boolean {
    return this.pool.length === 0
  }

  /** A split from subtask 0's pool, or null: there will be no more. */
  assign(split: number | null): void {
    this.requested = false
    if (split === null) this.noMoreSplits = true
    else this.addPart(split)
    this.updateWatermark()
  }

  /** Bytes the reader has read in this run (0 for a source that cannot tell). */
  get bytesRead(): number {
    return this.reader?.bytesRead?.() ?? 0
  }

  /** Brings the step's consumer lag up to date, for a reader that can tell (read with the other gauges). */
  refreshLag(): void {
    const lagOf = this.reader?.lag
    if (lagOf === undefined) return
    const partitions = this.owned
    const lag = partitions.map((p) => Math.max(0, lagOf.call(this.reader, p)))
    this.vertex.metrics.consumerLag = { unit: this.reader.lagUnit ?? 'records', partitions, lag }
  }

  /** Each partition's watermark and whether it is idle or ended, for the control plane (read-only). */
  partitionStates(): { partition: number; watermark: number; idle: boolean; ended: boolean; lastDataAt: number }[] {
    return this.parts.map((p) => ({ partition: p.index, watermark: this.eventTime === undefined ? -Infinity : p.wm.current(), idle: p.idle, ended: p.ended, lastDataAt: p.lastDataAt }))
  }

  /** The partitions this subtask reads. */
  get owned(): number[] {
    return this.parts.map((p) => p.index)
  }

  /** Sends the first watermark: +Infinity at once for a subtask that owns no partition (or only ended ones). */
  start(): void {
    this.updateWatermark()
    // After a restore: what was read before this run counts as done, not as this run's progress.
    this.vertex.metrics.recordsBefore = this.vertex.metrics.recordsIn
    const at = this.readSoFar()
    if (at !== undefined) this.vertex.metrics.input = { ...at, before: at.done }
  }

  /** Units read of the partitions this subtask owns, for a bounded source that tells. */
  private readSoFar(): { done: number; total: number } | undefined {
    if (!this.source.bounded || this.reader.progress === undefined) return undefined
    let done = 0
    let total = 0
    for (const p of this.parts) {
      const at = this.reader.progress(p.index)
      done += at.done
      total += at.total
    }
    return { done, total }
  }

  private updateInput(): void {
    const input = this.vertex.metrics.input
    if (input === undefined) return
    const at = this.readSoFar()!
    input.done = at.done
    input.total = at.total
  }

  get done(): boolean {
    return !this.discovering && this.noMoreSplits && this.parts.every((p) => p.ended)
  }

  /** The reader stands where a checkpoint could not resume from (see `SourceReader.holdsBarriers`). */
  get holdsBarriers(): boolean {
    return !this.done && this.reader.holdsBarriers?.() === true
  }

  /**
   * Reads at most one batch from the next partition that has one ready. Returns true if a batch was
   * processed; false if every live partition is waiting on I/O (see `waitables`).
   */
  step(max: number): boolean {
    if (this.failure !== undefined) throw this.failure
    if (this.discovery === undefined && this.clock.now() >= this.nextDiscoverAt) this.discover()
    if (!this.noMoreSplits && !this.requested && this.parts.every((p) => p.ended)) {
      this.requested = true
      this.split.requestSplit!()
    }
    if (this.ready.length > 0) {
      const { p, r } = this.ready.shift()!
      this.handle(p, r)
      return true
    }
    const n = this.parts.length
    for (let k = 0; k < n; k++) {
      const p = this.parts[(this.cursor + k) % n]
      if (p.ended || p.pending !== undefined) continue
      let r: SourceRead<unknown> | Promise<SourceRead<unknown>>
      try {
        r = this.reader.read(p.index, max)
      } catch (e) {
        throw this.readError(e)
      }
      if (r instanceof Promise) {
        p.pending = r.then(
          (res) => {
            p.pending = undefined
            this.ready.push({ p, r: res })
          },
          (e) => {
            p.pending = undefined
            this.failure = this.readError(e)
          },
        )
        continue
      }
      this.cursor = (this.cursor + k + 1) % n
      this.handle(p, r)
      return true
    }
    return false
  }

  /** Promises of partitions waiting on I/O. */
  waitables(): Promise<void>[] {
    const out: Promise<void>[] = []
    for (const p of this.parts) if (p.pending !== undefined) out.push(p.pending)
    if (this.discovery !== undefined) out.push(this.discovery)
    return out
  }

  private readError(e: unknown): SluiceError {
    if (e instanceof SluiceError) return e
    return new SluiceError('SLUICE_SOURCE_FAILED', `source failed: ${errorMessage(e)}`, { domain: 'external', step: this.vertex.plan.id, cause: e, retryable: true })
  }

  private handle(p: PartitionState, r: SourceRead<unknown>): void {
    const now = this.clock.now()
    if (r === END) {
      p.ended = true
      this.updateWatermark()
      this.updateInput()
      return
    }
    if (r === null || r.values.length === 0) {
      this.checkIdle(now)
      // A generator may move without a record (a test input's watermark set by the test).
      this.updateWatermark()
      return
    }
    p.lastDataAt = now
    p.idle = false
    const spans = this.vertex.spans
    if (r.trace !== undefined || (spans !== undefined && spans.sampleEveryMs > 0 && performance.now() - this.sampledAt >= spans.sampleEveryMs)) {
      this.traced(p, r as Batch<unknown>, now)
      return
    }
    // The batch is ingested now; what it causes downstream, a window fired by the watermark it moves too, inherits it.
    withIngestion(now, () => this.ingest(p, r as Batch<unknown>, now))
  }

  /**
   * A batch that came with trace context, or one sampled to start a trace: read in a span of this source (when
   * the run is traced), whose context the batch carries downstream.
   */
  private traced(p: PartitionState, batch: Batch<unknown>, now: number): void {
    const spans = this.vertex.spans
    const span = spans?.open(batch.trace)
    if (span !== undefined && batch.trace === undefined) this.sampledAt = performance.now()
    const prev = tracing.current
    tracing.current = span?.traceparent ?? batch.trace
    const n = batch.values.length
    try {
      withIngestion(now, () => this.ingest(p, batch, now))
    } finally {
      tracing.current = prev
      if (span !== undefined) spans!.end(span, `source ${this.vertex.plan.id}`, { 'sluice.step': this.vertex.plan.id, 'sluice.subtask': this.vertex.subtask, 'sluice.records': n })
    }
  }

  private ingest(p: PartitionState, batch: Batch<unknown>, now: number): void {
    const n = batch.values.length
    const times = new Array<number>(n)
    const et = this.eventTime
    if (et === undefined) {
      times.fill(now)
    } else {
      const wm = p.wm
      const values = batch.values
      let bad: number[] | undefined
      const latest = now + this.guard.skewMs
      for (let i = 0; i < n; i++) {
        let t: number
        try {
          t = et(values[i])
          if (typeof t !== 'number' || !Number.isFinite(t)) throw new Error(`eventTime returned ${typeof t === 'number' ? t : typeof t}, expected a finite number of epoch milliseconds`)
          if (t > latest) throw this.guard.future(t - now)
        } catch (e) {
          this.errors.report(this.vertex.plan.id, e, values[i], now, batch.pos?.[i])
          ;(bad ??= []).push(i)
          continue
        }
        times[i] = t
        wm.onEvent(t)
      }
      if (bad !== undefined) {
        const skip = new Set(bad)
        const keep = (_: unknown, i: number) => !skip.has(i)
        batch.values = values.filter(keep)
        if (batch.pos) batch.pos = batch.pos.filter(keep)
        if (batch.traces) batch.traces = batch.traces.filter(keep)
        this.recordsIn += n
        this.vertex.metrics.recordsIn += n
        this.vertex.emit({ ...batch, times: times.filter(keep), ingestedAt: now })
        this.updateWatermark()
        this.updateInput()
        return
      }
    }
    this.recordsIn += n
    this.vertex.metrics.recordsIn += n
    this.vertex.emit({ ...batch, times, ingestedAt: now })
    this.updateWatermark()
    this.updateInput()
  }

  /** Marks partitions idle that have been silent longer than the idle timeout. */
  checkIdle(now: number): void {
    if (this.idleTimeout === Infinity) return
    let changed = false
    for (const p of this.parts) {
      if (!p.ended && !p.idle && now - p.lastDataAt >= this.idleTimeout) {
        p.idle = true
        changed = true
      }
    }
    if (changed) this.updateWatermark()
  }

  /** Earliest time at which a partition may turn idle (for the runner's wait). */
  nextIdleCheck(): number {
    let t = this.discovery === undefined ? this.nextDiscoverAt : Infinity
    if (this.idleTimeout === Infinity) return t
    for (const p of this.parts) if (!p.ended && !p.idle) t = Math.min(t, p.lastDataAt + this.idleTimeout)
    return t
  }

  private updateWatermark(): void {
    // A split not handed out yet may hold any event time: as with one subtask reading every split, the watermark
    // waits for it.
    if (!this.noMoreSplits) return
    let min = Infinity
    let live = false
    for (const p of this.parts) {
      if (p.ended) continue
      if (p.idle) continue
      live = true
      const w = this.eventTime === undefined ? -Infinity : p.wm.current()
      if (w < min) min = w
    }
    if (!live) {
      if (this.done) this.vertex.setWatermark(Infinity)
      else this.vertex.markIdle()
      return
    }
    if (min > this.vertex.watermark) this.guard.moved(this.vertex.watermark, min)
    this.vertex.setWatermark(min)
  }

  /** Waits for reads in flight and handles their batches, so the reader's positions match what was emitted. */
  async quiesce(): Promise<void> {
    for (;;) {
      const waits = this.waitables()
      if (waits.length === 0 && this.ready.length === 0) break
      if (waits.length > 0) await Promise.all(waits)
      if (this.failure !== undefined) throw this.failure
      while (this.ready.length > 0) {
        const { p, r } = this.ready.shift()!
        this.handle(p, r)
      }
    }
  }

  /** The source's part of a checkpoint; call after `quiesce`. */
  snapshot(): SourceSnapshot {
    if (this.reader.positions === undefined) {
      throw new SluiceError('SLUICE_SOURCE_NOT_CHECKPOINTABLE', `source '${this.vertex.plan.id}' (${this.source.kind}) cannot report its position, so it cannot be checkpointed`, {
        step: this.vertex.plan.id,
        hint: 'run without --checkpoint-dir, or use a source that supports checkpoints',
      })
    }
    const n = this.reader.partitions
    // Splits of a dynamic source that this subtask does not read are reported as the restored checkpoint had them.
    const watermarks = this.restored !== undefined ? this.restored.watermarks.slice() : new Array<unknown>(n).fill(null)
    const ended = this.restored !== undefined ? this.restored.ended.slice() : new Array<boolean>(n).fill(false)
    for (const p of this.parts) {
      watermarks[p.index] = p.wm.snapshot()
      ended[p.index] = p.ended
    }
    return { positions: structuredClone(this.reader.positions()), watermarks, ended, recordsIn: this.recordsIn }
  }

  /** Before the first read: continue where a checkpoint left off. */
  async restore(s: SourceSnapshot): Promise<void> {
    const stepId = this.vertex.plan.id
    // A source with named partitions (`splits`) finds its own in the checkpoint, whatever their number now.
    const named = this.reader.splits !== undefined && !this.dynamic
    if (!named && s.positions.length !== this.reader.partitions) {
      throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `source '${stepId}' has ${this.reader.partitions} partitions, the checkpoint recorded ${s.positions.length}`, { step: stepId })
    }
    if (this.reader.seek === undefined) {
      throw new SluiceError('SLUICE_SOURCE_NOT_CHECKPOINTABLE', `source '${stepId}' (${this.source.kind}) cannot seek, so it cannot resume from a checkpoint`, { step: stepId })
    }
    await this.reader.seek(s.positions)
    if (named) this.ownByIndex(this.clock.now())
    if (this.dynamic) {
      this.restored = s
      this.assignFirst(s.ended)
    }
    for (const p of this.parts) {
      if (p.index >= s.positions.length) continue
      p.wm.restore(s.watermarks[p.index])
      p.ended = s.ended[p.index]
    }
    this.recordsIn = this.split.subtask === 0 ? s.recordsIn : 0
  }

  /** Checkpoint `id` is durable: a source that commits positions to an external system does it now. */
  async checkpointComplete(id: number): Promise<void> {
    await (this.reader as { onCheckpointComplete?: (id: number) => unknown } | undefined)?.onCheckpointComplete?.(id)
  }

  async close(): Promise<void> {
    await this.reader?.close()
  }
}
