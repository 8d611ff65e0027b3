import { copyHistogram, type LatencyHistogram } from './latency-histogram.ts'

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
  /** Time spent handling batches, in ms: the step's own, not that of the steps it feeds in the same call. */
  busyMs = 0
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
  /** A sink's end-to-end latency histograms (see `SinkLatency`); undefined for other steps. */
  latency: SinkLatency | undefined = undefined
  /** A keyed step's most frequent keys on this subtask (space-saving sketch), most first; undefined elsewhere. */
  hotKeys: KeyCount[] | undefined = undefined
  /**
   * A keyed step's records per key group on this subtask (index: key group), estimated from one batch in
   * `KEY_GROUP_SAMPLE` (each of its records counts that many); undefined elsewhere. For rescaling decisions.
   */
  keyGroupRecords: number[] | undefined = undefined
  /** Gauge: a keyed step's keys per key group on this subtask (index: key group), read every few seconds; undefined elsewhere. */
  keyGroupKeys: number[] | undefined = undefined
  /** Gauge: estimated bytes of a keyed step's state per key group on this subtask, read with `keyGroupKeys`. */
  keyGroupBytes: number[] | undefined = undefined
  /** Gauge: a source's consumer lag per partition it reads, for sources that can tell (see `ConsumerLag`). */
  consumerLag: ConsumerLag | undefined = undefined
  /** Records that broke a data contract at this step (a source's or a sink's), per rule; undefined until one does. */
  violations: ViolationCounts | undefined = undefined
  /** An `expect` step's results so far, per expectation; undefined until it judged a window. */
  quality: QualityCounts | undefined = undefined
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
      ...(this.violations !== undefined ? { violations: { ...this.violations } } : {}),
      ...(this.quality !== undefined ? { quality: copyQuality(this.quality) } : {}),
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
      busyMs: this.busyMs,
      stateKeys: this.stateKeys,
      stateBytes: this.stateBytes,
      stateEntries: this.stateEntries,
      stateEntriesWithoutTtl: this.stateEntriesWithoutTtl,
      recordsBefore: this.recordsBefore,
      ...(this.input !== undefined ? { input: { ...this.input } } : {}),
      ...(this.hotKeys !== undefined ? { hotKeys: this.hotKeys.map((k) => ({ ...k })) } : {}),
      ...(this.consumerLag !== undefined ? { consumerLag: { unit: this.consumerLag.unit, partitions: this.consumerLag.partitions.slice(), lag: this.consumerLag.lag.slice() } } : {}),
      ...(this.latency !== undefined ? { latency: { ingest: copyHistogram(this.latency.ingest), eventTime: copyHistogram(this.latency.eventTime) } } : {}),
      ...(this.violations !== undefined ? { violations: { ...this.violations } } : {}),
      ...(this.quality !== undefined ? { quality: copyQuality(this.quality) } : {}),
      ...(this.keyGroupRecords !== undefined ? { keyGroupRecords: this.keyGroupRecords.slice() } : {}),
      ...(this.keyGroupKeys !== undefined ? { keyGroupKeys: this.keyGroupKeys.slice() } : {}),
      ...(this.keyGroupBytes !== undefined ? { keyGroupBytes: this.keyGroupBytes.slice() } : {}),
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
  /** Present when records broke a data contract here: counts per rule. */
  violations?: ViolationCounts
  /** Present for an `expect` step that judged a window: its results per expectation. */
  quality?: QualityCounts
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
  busyMs: number
  stateKeys: number
  stateBytes: number
  stateEntries: number
  stateEntriesWithoutTtl: number
  /** A source resumed from a checkpoint: records of `recordsIn` it had read before this run. */
  recordsBefore: number
  /** A bounded source's reading progress, when it tells. */
  input?: InputProgress
  /** A sink's end-to-end latency histograms. */
  latency?: SinkLatency
  /** A source's consumer lag per partition. */
  consumerLag?: ConsumerLag
  /** A keyed step's most frequent keys. */
  hotKeys?: KeyCount[]
  /** Contract violations per rule. */
  violations?: ViolationCounts
  /** An `expect` step's results per expectation. */
  quality?: QualityCounts
  /** A keyed step's estimated records per key group (index: key group). */
  keyGroupRecords?: number[]
  /** A keyed step's keys per key group (index: key group). */
  keyGroupKeys?: number[]
  /** A keyed step's estimated state bytes per key group (index: key group). */
  keyGroupBytes?: number[]
}

/**
 * Records that broke a data contract, per rule: the key is `<field path> <rule>` (`/price inRange`, `/ required`
 * for the record itself), never a value.
 * @example { '/price inRange': 3, '/bidder required': 1 }
 */
export type ViolationCounts = Record<string, number>

/**
 * The rule an error names when a record broke a data contract (the `violation` the contract's validator attaches
 * to its SluiceError), as `<field path> <rule>`; undefined for any other error.
 * @example violationRule(err) // '/price inRange'
 */
export function violationRule(error: unknown): string | undefined {
  const v = (error as { violation?: { path?: unknown; rule?: unknown } } | null)?.violation
  if (v === undefined || v === null || typeof v.rule !== 'string') return undefined
  return `${typeof v.path === 'string' && v.path !== '' ? v.path : '/'} ${v.rule}`
}

/**
 * An `expect` step's results so far, per expectation name: windows judged (a check over the whole run is one
 * window) and failed, records checked and failed (record checks and referential; 0 for the others).
 * @example { 'price:notNull': { windows: 6, windowsFailed: 2, checked: 6000, failed: 12 } }
 */
export type QualityCounts = Record<string, QualityCount>

/** One expectation's figures in `QualityCounts`. */
export interface QualityCount {
  windows: number
  windowsFailed: number
  checked: number
  failed: number
}

/** Counts one judged window of expectation `name` on `m`. */
export function countQuality(m: StepMetrics, name: string, r: { passed: boolean; checked: number; failed: number }): void {
  const q = ((m.quality ??= {})[name] ??= { windows: 0, windowsFailed: 0, checked: 0, failed: 0 })
  q.windows++
  if (!r.passed) q.windowsFailed++
  q.checked += r.checked
  q.failed += r.failed
}

/** Adds `from` into `to` (figures of two subtasks or threads). */
export function addQuality(to: QualityCounts, from: QualityCounts): void {
  for (const [name, c] of Object.entries(from)) {
    const q = (to[name] ??= { windows: 0, windowsFailed: 0, checked: 0, failed: 0 })
    q.windows += c.windows
    q.windowsFailed += c.windowsFailed
    q.checked += c.checked
    q.failed += c.failed
  }
}

function copyQuality(q: QualityCounts): QualityCounts {
  const out: QualityCounts = {}
  addQuality(out, q)
  return out
}

/** Counts one contract violation of rule `rule` on `m`. */
export function countViolation(m: StepMetrics, rule: string): void {
  const v = (m.violations ??= {})
  v[rule] = (v[rule] ?? 0) + 1
}

/** A keyed step counts the key groups of one batch in this many (and weighs each record by it). */
export const KEY_GROUP_SAMPLE = 8

/**
 * A frequent key of a keyed step as the space-saving sketch counts it: at least `count - error` records.
 * `key` is the key as text; it is record content: shown to the operator, never a metric label or a log field.
 * @example { key: 'auction-7', count: 48_210, error: 12 }
 */
export interface KeyCount {
  key: string
  count: number
  error: number
}

/**
 * How far a source is behind the end of each partition it reads: `lag[i]` records (or bytes) of partition
 * `partitions[i]` not yet read.
 * @example { unit: 'records', partitions: [0, 2], lag: [120, 0] }
 */
export interface ConsumerLag {
  unit: 'records' | 'bytes'
  partitions: number[]
  lag: number[]
}

/**
 * What a sink measures per record it writes: the time since the record's batch was ingested (read by its
 * source) and the time since its event time.
 * @example quantileMs(job.metrics().steps.find((t) => t.step === 'out')!.latency!.ingest, 0.99)
 */
export interface SinkLatency {
  /** Written minus ingested (the processing-time clock). */
  ingest: LatencyHistogram
  /** Written minus event time: includes how long windows held the record and how late it came. */
  eventTime: LatencyHistogram
}

