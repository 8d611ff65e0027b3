import { StepMetrics, addQuality, type KeyCount, type StepMetricsValues } from '../../core/metrics.ts'
import { addHistogram, copyHistogram } from '../../core/latency-histogram.ts'

/** What a thread (or process) reports about the subtasks it runs: plain, structured-cloneable data. */
export interface MetricsExport {
  pipeline: string
  /** The reporting thread (0 for the main thread). */
  thread: number
  /** When it was taken (epoch ms). */
  takenAt: number
  subtasks: StepMetricsValues[]
}

/**
 * Checkpoint figures of a job, set by the checkpoint coordinator. Times in ms, sizes in bytes.
 * @example const { completed, lastDurationMs } = job.metrics().checkpoints
 */
export interface CheckpointMetrics {
  completed: number
  failed: number
  /** Of those completed, the incremental ones. */
  deltas: number
  /** Restores of this job from a checkpoint or savepoint. */
  restored: number
  /** The last completed checkpoint's id, 0 before the first. */
  lastId: number
  /** From the checkpoint's start until it was complete (manifest written). */
  lastDurationMs: number
  lastBytes: number
  lastAlignmentMs: number
  lastSyncMs: number
  lastAsyncMs: number
  /** The last completed checkpoint was incremental. */
  lastDelta: boolean
  /** The checkpoint restored from, and how long the restore took; null when the job started afresh. */
  restoredFrom: number | null
  restoreMs: number | null
}

/** What a completed checkpoint reports (the fields of the manifest's CheckpointStats that metrics keep). */
export interface CheckpointFigures {
  id: number
  bytes: number
  syncMs: number
  asyncMs: number
  alignmentMs: number
  delta?: boolean
}

/**
 * One step's figures over all its subtasks: counters and state summed, watermark the minimum, lag the maximum.
 * @example const counts = job.metrics().steps.find((t) => t.step === 'counts')!; counts.stateKeys
 */
export type StepTotals = Omit<StepMetricsValues, 'subtask'> & {
  /** Subtasks that reported. */
  subtasks: number
}

/**
 * Everything the registry knows at one moment; a copy that nothing else changes.
 * @example
 * const s = job.metrics()
 * for (const t of s.steps) console.log(t.step, t.recordsIn, t.backpressureMs)
 */
export interface MetricsSnapshot {
  pipeline: string
  /** When it was taken (epoch ms). */
  takenAt: number
  startedAt: number
  status: string
  restarts: number
  checkpoints: CheckpointMetrics
  /** Per step, in plan order. */
  steps: StepTotals[]
  /** Per step and subtask (this thread's and those reported by others), in plan order, then by subtask. */
  subtasks: StepMetricsValues[]
}

/** Hot keys kept per subtask and per step. */
export const TOP_KEYS = 10

/** Figures added up over subtasks (state gauges too: each subtask holds its own keys). */
const SUMMED = ['recordsIn', 'recordsOut', 'late', 'errors', 'dropped', 'retries', 'bytesIn', 'bytesOut', 'backpressureMs', 'busyMs', 'stateKeys', 'stateBytes', 'stateEntries', 'stateEntriesWithoutTtl', 'recordsBefore'] as const

/**
 * Every counter and gauge of a job in one place. The runtime gets a `StepMetrics` per (step, subtask) from
 * `step()` and updates it in place per batch; worker threads post `export()` about once a second and the main
 * thread `absorb()`s it; `snapshot()` reads everything at any moment. The run summary, the progress line and
 * exporters are views of the snapshot.
 * @example
 * const registry = new MetricsRegistry({ pipeline: 'clicks' })
 * registry.step('count', 'keyed-aggregate', 0).recordsIn += 500
 * registry.snapshot().steps[0].recordsIn // 500
 */
export class MetricsRegistry {
  readonly pipeline: string
  readonly thread: number
  /** Job status as a gauge (the job control sets it). */
  status = 'starting'
  /** Epoch ms. */
  startedAt: number
  /** Times the job restarted after a failure. */
  restarts = 0
  readonly checkpoints: CheckpointMetrics = {
    completed: 0,
    failed: 0,
    deltas: 0,
    restored: 0,
    lastId: 0,
    lastDurationMs: NaN,
    lastBytes: NaN,
    lastAlignmentMs: NaN,
    lastSyncMs: NaN,
    lastAsyncMs: NaN,
    lastDelta: false,
    restoredFrom: null,
    restoreMs: null,
  }
  /** Called before a snapshot or export is taken: the runtime brings its gauges (watermarks, state) up to date. */
  onRead: (() => void) | undefined
  private readonly now: () => number
  private readonly local = new Map<string, StepMetrics>()
  private readonly absorbed = new Map<number, MetricsExport>()
  /** Step id -> kind, in plan order (the order steps were declared or first seen). */
  private readonly kinds = new Map<string, string>()

  constructor(opts: { pipeline: string; thread?: number; now?: () => number }) {
    this.pipeline = opts.pipeline
    this.thread = opts.thread ?? 0
    this.now = opts.now ?? Date.now
    this.startedAt = this.now()
  }

  /** Names a step before any subtask of it runs here, so that it has its place (plan order) and a row of zeros. */
  declare(stepId: string, kind: string): void {
    if (!this.kinds.has(stepId)) this.kinds.set(stepId, kind)
  }

  /** The figures of one subtask of a step, created on first call; the caller updates the same object in place. */
  step(stepId: string, kind: string, subtask: number): StepMetrics {
    const key = keyOf(stepId, subtask)
    let m = this.local.get(key)
    if (m === undefined) {
      m = new StepMetrics(stepId, kind, subtask)
      this.local.set(key, m)
      this.declare(stepId, kind)
    }
    return m
  }

  /** A completed checkpoint: counts it and keeps its figures as the last ones. */
  checkpointCompleted(stats: CheckpointFigures, durationMs = stats.alignmentMs + stats.syncMs + stats.asyncMs): void {
    const c = this.checkpoints
    c.completed++
    if (stats.delta === true) c.deltas++
    c.lastId = stats.id
    c.lastDurationMs = durationMs
    c.lastBytes = stats.bytes
    c.lastAlignmentMs = stats.alignmentMs
    c.lastSyncMs = stats.syncMs
    c.lastAsyncMs = stats.asyncMs
    c.lastDelta = stats.delta === true
  }

  /** The figures of the subtasks this registry created, as plain data (posted by a worker thread). */
  export(): MetricsExport {
    this.onRead?.()
    const subtasks: StepMetricsValues[] = []
    for (const m of this.local.values()) subtasks.push(m.values())
    return { pipeline: this.pipeline, thread: this.thread, takenAt: this.now(), subtasks }
  }

  /** Takes what thread or process `source` reported, replacing its previous report. */
  absorb(source: number, data: MetricsExport): void {
    this.absorbed.set(source, data)
    for (const s of data.subtasks) this.declare(s.step, s.kind)
  }

  /**
   * Everything at this moment: per subtask, per step, and job-level. A (step, subtask) reported by two threads
   * counts once, the last report (in thread order, this thread's first) winning.
   */
  snapshot(): MetricsSnapshot {
    this.onRead?.()
    const bySubtask = new Map<string, StepMetricsValues>()
    for (const [key, m] of this.local) bySubtask.set(key, m.values())
    for (const source of [...this.absorbed.keys()].sort((a, b) => a - b)) {
      for (const s of this.absorbed.get(source)!.subtasks) bySubtask.set(keyOf(s.step, s.subtask), { ...s })
    }
    const order = new Map([...this.kinds.keys()].map((id, i) => [id, i]))
    const subtasks = [...bySubtask.values()].sort((a, b) => order.get(a.step)! - order.get(b.step)! || a.subtask - b.subtask)
    const totals = new Map<string, StepTotals>()
    for (const [step, kind] of this.kinds) totals.set(step, emptyTotals(step, kind))
    for (const s of subtasks) addTo(totals.get(s.step)!, s)
    return {
      pipeline: this.pipeline,
      takenAt: this.now(),
      startedAt: this.startedAt,
      status: this.status,
      restarts: this.restarts,
      checkpoints: { ...this.checkpoints },
      steps: [...totals.values()],
      subtasks,
    }
  }
}

function keyOf(step: string, subtask: number): string {
  return `${subtask}\u0000${step}`
}

function emptyTotals(step: string, kind: string): StepTotals {
  return {
    step,
    kind,
    subtasks: 0,
    recordsIn: 0,
    recordsOut: 0,
    late: 0,
    errors: 0,
    dropped: 0,
    retries: 0,
    bytesIn: 0,
    bytesOut: 0,
    watermark: -Infinity,
    inputLagMs: NaN,
    backpressureMs: 0,
    busyMs: 0,
    stateKeys: 0,
    stateBytes: 0,
    stateEntries: 0,
    stateEntriesWithoutTtl: 0,
    recordsBefore: 0,
  }
}

function addTo(t: StepTotals, s: StepMetricsValues): void {
  for (const f of SUMMED) t[f] += s[f]
  if (s.input !== undefined) {
    t.input ??= { done: 0, total: 0, before: 0 }
    t.input.done += s.input.done
    t.input.total += s.input.total
    t.input.before += s.input.before
  }
  if (s.violations !== undefined) {
    const v = (t.violations ??= {})
    for (const [rule, n] of Object.entries(s.violations)) v[rule] = (v[rule] ?? 0) + n
  }
  if (s.quality !== undefined) addQuality((t.quality ??= {}), s.quality)
  if (s.hotKeys !== undefined) t.hotKeys = mergeKeys(t.hotKeys ?? [], s.hotKeys)
  if (s.keyGroupRecords !== undefined) {
    const sum = (t.keyGroupRecords ??= new Array<number>(s.keyGroupRecords.length).fill(0))
    s.keyGroupRecords.forEach((n, g) => (sum[g] += n))
  }
  // Each subtask owns its key groups: summing gives each group its own figure.
  for (const f of ['keyGroupKeys', 'keyGroupBytes'] as const) {
    const from = s[f]
    if (from === undefined) continue
    const sum = (t[f] ??= new Array<number>(from.length).fill(0))
    from.forEach((n, g) => (sum[g] += n))
  }
  if (s.consumerLag !== undefined) {
    t.consumerLag ??= { unit: s.consumerLag.unit, partitions: [], lag: [] }
    t.consumerLag.partitions.push(...s.consumerLag.partitions)
    t.consumerLag.lag.push(...s.consumerLag.lag)
  }
  if (s.latency !== undefined) {
    if (t.latency === undefined) t.latency = { ingest: copyHistogram(s.latency.ingest), eventTime: copyHistogram(s.latency.eventTime) }
    else {
      addHistogram(t.latency.ingest, s.latency.ingest)
      addHistogram(t.latency.eventTime, s.latency.eventTime)
    }
  }
  // A step's event time is where its slowest subtask is; its lag is its worst subtask's (unknown ones aside).
  t.watermark = t.subtasks === 0 ? s.watermark : Math.min(t.watermark, s.watermark)
  if (!Number.isNaN(s.inputLagMs) && !(s.inputLagMs <= t.inputLagMs)) t.inputLagMs = s.inputLagMs
  t.subtasks++
}

/** A step's top keys over its subtasks: counts of one key added up (a key lives on one subtask, except after a rescale). */
function mergeKeys(a: readonly KeyCount[], b: readonly KeyCount[]): KeyCount[] {
  const by = new Map<string, KeyCount>()
  for (const k of [...a, ...b]) {
    const e = by.get(k.key)
    if (e === undefined) by.set(k.key, { ...k })
    else {
      e.count += k.count
      e.error += k.error
    }
  }
  return [...by.values()].sort((x, y) => y.count - x.count).slice(0, TOP_KEYS)
}
