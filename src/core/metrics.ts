/**
 * Counters and gauges kept per step and subtask, updated in place once per batch (never per record). The
 * metrics registry (`observe/metrics`) creates one per (step, subtask) and reads them live.
 * @example ctx.metrics.late += lateRecords
 */
export class StepMetrics {
  readonly step: string
  readonly kind: string
  /** The subtask of the step these figures belong to (0 on one thread). */
  readonly subtask: number
  recordsIn = 0
  recordsOut = 0
  /** Late records diverted to the late output. */
  late = 0
  /** Records whose user function failed. */
  errors = 0
  /** Records dropped on purpose (error policy `skip`, or a side output that nothing consumes). */
  dropped = 0
  /** Calls of a user function repeated after a transient error (pipeline option `retries`), and requests a sink sent again (`SinkWriter.retries`). */
  retries = 0
  /** Bytes read (sources) or received (exchanges); 0 where unknown. */
  bytesIn = 0
  /** Bytes written (sinks) or sent (exchanges); 0 where unknown. */
  bytesOut = 0
  /** Gauge: the step's input watermark (epoch ms), -Infinity before the first. */
  watermark = -Infinity
  /** Gauge: processing time minus the watermark in ms (how far event time trails the clock); NaN when unknown. */
  inputLagMs = NaN
  /** Time spent blocked on output (a full channel downstream), in ms: backpressure. */
  backpressureMs = 0
  /** Gauge: keys held in keyed state. */
  stateKeys = 0
  /** Gauge: bytes of keyed state a restore of this subtask reads (its last full snapshot plus the deltas since). */
  stateBytes = 0
  /** Gauge: entries of the step's state backend (values, map entries, list items, timers). */
  stateEntries = 0
  /** Gauge: of those entries, the ones in states without a TTL (state that only grows unless the function clears it). */
  stateEntriesWithoutTtl = 0
  /** A bounded source's reading progress (see `InputProgress`); undefined for other steps. */
  input: InputProgress | undefined = undefined
  /** A source resumed from a checkpoint: records it had read before this run (counted in `recordsIn`). */
  recordsBefore = 0
  constructor(step: string, kind: string, subtask = 0) {
    this.step = step
    this.kind = kind
    this.subtask = subtask
  }
  /** The counters the run summary and checkpoint manifests show (unchanged form; new figures only when non-zero). */
  toJSON(): StepMetricsJson {
    return {
      step: this.step,
      kind: this.kind,
      in: this.recordsIn,
      out: this.recordsOut,
      late: this.late,
      errors: this.errors,
      dropped: this.dropped,
      ...(this.retries > 0 ? { retries: this.retries } : {}),
    }
  }
  /** Every figure as plain, structured-cloneable data. */
  values(): StepMetricsValues {
    return {
      step: this.step,
      kind: this.kind,
      subtask: this.subtask,
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      late: this.late,
      errors: this.errors,
      dropped: this.dropped,
      retries: this.retries,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      watermark: this.watermark,
      inputLagMs: this.inputLagMs,
      backpressureMs: this.backpressureMs,
      stateKeys: this.stateKeys,
      stateBytes: this.stateBytes,
      stateEntries: this.stateEntries,
      stateEntriesWithoutTtl: this.stateEntriesWithoutTtl,
      recordsBefore: this.recordsBefore,
      ...(this.input !== undefined ? { input: { ...this.input } } : {}),
    }
  }
}

export interface StepMetricsJson {
  step: string
  kind: string
  in: number
  out: number
  late: number
  errors: number
  dropped: number
  /** Present when some call was retried. */
  retries?: number
  /** Present for a bounded source that reports how far it has read (worker threads post it with their figures). */
  input?: InputProgress
  /** Present for a source resumed from a checkpoint: records of `in` read before this run. */
  before?: number
}

/**
 * How far a bounded source has read, in its own unit (bytes for files): `done` of `total`, of which `before`
 * had been read when this run started (a run resumed from a checkpoint starts past 0).
 * @example { done: 750_000, total: 1_000_000, before: 500_000 } // 75% done, half of it by an earlier run
 */
export interface InputProgress {
  done: number
  total: number
  before: number
}

/**
 * The figures of one step's subtask as plain data (what a worker thread posts to the main thread).
 * @example const lagging = job.metrics().subtasks.filter((x) => x.inputLagMs > 60_000)
 */
export interface StepMetricsValues {
  step: string
  kind: string
  subtask: number
  recordsIn: number
  recordsOut: number
  late: number
  errors: number
  dropped: number
  retries: number
  bytesIn: number
  bytesOut: number
  watermark: number
  inputLagMs: number
  backpressureMs: number
  stateKeys: number
  stateBytes: number
  stateEntries: number
  stateEntriesWithoutTtl: number
  /** A source resumed from a checkpoint: records of `recordsIn` it had read before this run. */
  recordsBefore: number
  /** A bounded source's reading progress, when it tells. */
  input?: InputProgress
}

