import type { Counter, Gauge, Registry } from 'prom-client'
import { JOB_METRICS, STEP_METRICS, jobValue, stepValue, type MetricInfo } from '../metrics/catalog.ts'
import type { MetricsSnapshot } from '../metrics/registry.ts'
import { CONSUMER_LAG_LABELS, CONSUMER_LAG_METRICS, EXTRA_STEP_METRICS, KEY_GROUP_METRIC, KEY_GROUP_STATE_METRICS, QUALITY_METRICS, SLO_METRICS, VIOLATION_METRIC, type ExtraStepMetric } from './extra-metrics.ts'
import type { SloSpec } from '../slo/spec.ts'
import { sloTargets } from '../slo/spec.ts'
import { lazyRequire } from '../../core/lazy-require.ts'
import { LATENCY_HISTOGRAMS, SnapshotHistogram } from './histograms.ts'

const promClient = lazyRequire<typeof import('prom-client')>(import.meta.url, 'prom-client')

/** What the exposition needs besides the snapshot: facts of the pipeline that the registry does not hold. */
export interface ExpositionOptions {
  /** The pipeline sends failed records to the dead-letter log (`onError: 'dead-letter'`): its errors are dead letters. */
  deadLetters?: boolean
  /** The pipeline's objectives, published as `sluice_slo_objective_ratio` and `sluice_slo_threshold_seconds`. */
  slo?: SloSpec
}

type AnyMetric = Counter<string> | Gauge<string>

/**
 * The Prometheus text format of a metrics snapshot, through `prom-client`: one series per step and subtask for
 * step figures, one per job for job figures (names and units from the catalog), in base units. Labels are the
 * pipeline, step id, step kind and subtask: bounded by the plan, never a record value or a key.
 * @example
 * const exposition = new PrometheusExposition()
 * const text = await exposition.render(registry.snapshot())
 * // sluice_step_input_records_total{pipeline="clicks",step="read",kind="source-jsonl",subtask="0"} 500
 */
export class PrometheusExposition {
  /** The Content-Type of `render`'s text. */
  readonly contentType: string
  private readonly registry = new (promClient().Registry)()
  private readonly steps: [MetricInfo, AnyMetric][]
  private readonly jobs: [MetricInfo, AnyMetric][]
  private readonly extras: [ExtraStepMetric, AnyMetric][]
  private readonly sloObjective: Gauge<string>
  private readonly sloThreshold: Gauge<string>
  private readonly opts: ExpositionOptions
  private readonly histograms: SnapshotHistogram[]
  private readonly lag: Record<'records' | 'bytes', Gauge<string>>
  private readonly violations: Counter<string>
  private readonly quality: Record<'windows' | 'failed', AnyMetric>
  private readonly keyGroups: AnyMetric
  private readonly keyGroupState: Record<'keys' | 'bytes', AnyMetric>

  constructor(opts: ExpositionOptions = {}) {
    this.opts = opts
    this.contentType = this.registry.contentType
    this.steps = STEP_METRICS.map((m) => [m, this.metric(m.name, m.help, m.type, m.labels)])
    this.jobs = JOB_METRICS.map((m) => [m, this.metric(m.name, m.help, m.type, m.labels)])
    this.extras = EXTRA_STEP_METRICS.map((m) => [m, this.metric(m.name, m.help, m.type, m.labels)])
    this.histograms = LATENCY_HISTOGRAMS.map((h) => new SnapshotHistogram(h, this.registry))
    const lagGauge = (m: { name: string; help: string }) => new (promClient().Gauge)({ name: m.name, help: m.help, labelNames: [...CONSUMER_LAG_LABELS], registers: [this.registry] })
    this.lag = { records: lagGauge(CONSUMER_LAG_METRICS.records), bytes: lagGauge(CONSUMER_LAG_METRICS.bytes) }
    this.violations = new (promClient().Counter)({ name: VIOLATION_METRIC.name, help: VIOLATION_METRIC.help, labelNames: [...VIOLATION_METRIC.labels], registers: [this.registry] })
    const q = QUALITY_METRICS
    this.quality = { windows: this.metric(q.windows.name, q.windows.help, 'counter', q.windows.labels), failed: this.metric(q.failed.name, q.failed.help, 'counter', q.failed.labels) }
    this.keyGroups = this.metric(KEY_GROUP_METRIC.name, KEY_GROUP_METRIC.help, 'counter', KEY_GROUP_METRIC.labels)
    const st = KEY_GROUP_STATE_METRICS
    this.keyGroupState = { keys: this.metric(st.keys.name, st.keys.help, 'gauge', st.keys.labels), bytes: this.metric(st.bytes.name, st.bytes.help, 'gauge', st.bytes.labels) }
    const [objective, threshold] = SLO_METRICS
    this.sloObjective = new (promClient().Gauge)({ name: objective.name, help: objective.help, labelNames: [...objective.labels], registers: [this.registry] })
    this.sloThreshold = new (promClient().Gauge)({ name: threshold.name, help: threshold.help, labelNames: [...threshold.labels], registers: [this.registry] })
  }

  /** The snapshot in the Prometheus text format (version 0.0.4). */
  async render(s: MetricsSnapshot): Promise<string> {
    // Every series is set from this one snapshot before prom-client reads any, so a scrape is consistent.
    const pipeline = s.pipeline
    for (const [info, metric] of this.steps) {
      metric.reset()
      for (const t of s.subtasks) set(metric, { pipeline, step: t.step, kind: t.kind, subtask: String(t.subtask) }, stepValue(t, info))
    }
    for (const [info, metric] of this.extras) {
      metric.reset()
      for (const t of s.subtasks) set(metric, { pipeline, step: t.step, kind: t.kind, subtask: String(t.subtask) }, info.value(t, this.opts))
    }
    for (const h of this.histograms) h.set(pipeline, s.subtasks)
    this.lag.records.reset()
    this.lag.bytes.reset()
    for (const t of s.subtasks) {
      const c = t.consumerLag
      if (c === undefined) continue
      c.partitions.forEach((partition, i) => this.lag[c.unit].set({ pipeline, step: t.step, kind: t.kind, subtask: String(t.subtask), partition: String(partition) }, c.lag[i]))
    }
    this.violations.reset()
    for (const t of s.subtasks) {
      for (const [rule, n] of Object.entries(t.violations ?? {})) this.violations.inc({ pipeline, step: t.step, kind: t.kind, subtask: String(t.subtask), rule }, n)
    }
    this.quality.windows.reset()
    this.quality.failed.reset()
    for (const t of s.subtasks) {
      for (const [expectation, c] of Object.entries(t.quality ?? {})) {
        const labels = { pipeline, step: t.step, kind: t.kind, subtask: String(t.subtask), expectation }
        set(this.quality.windows, { ...labels, result: 'passed' }, c.windows - c.windowsFailed)
        set(this.quality.windows, { ...labels, result: 'failed' }, c.windowsFailed)
        set(this.quality.failed, labels, c.failed)
      }
    }
    this.keyGroups.reset()
    for (const t of s.subtasks) {
      t.keyGroupRecords?.forEach((n, g) => {
        if (n > 0) set(this.keyGroups, { pipeline, step: t.step, kind: t.kind, subtask: String(t.subtask), key_group: String(g) }, n)
      })
    }
    for (const [which, field] of [['keys', 'keyGroupKeys'], ['bytes', 'keyGroupBytes']] as const) {
      const metric = this.keyGroupState[which]
      metric.reset()
      for (const t of s.subtasks) {
        // Only the groups holding state: a subtask owns a range of them, the others are always empty.
        t[field]?.forEach((n, g) => {
          if (n > 0) set(metric, { pipeline, step: t.step, kind: t.kind, subtask: String(t.subtask), key_group: String(g) }, n)
        })
      }
    }
    for (const [info, metric] of this.jobs) {
      metric.reset()
      set(metric, info.field === 'status' ? { pipeline, status: s.status } : { pipeline }, jobValue(s, info))
    }
    this.sloObjective.reset()
    this.sloThreshold.reset()
    for (const t of this.opts.slo === undefined ? [] : sloTargets(this.opts.slo)) {
      this.sloObjective.set({ pipeline, slo: t.slo }, t.objective)
      if (t.thresholdSeconds !== undefined) this.sloThreshold.set({ pipeline, slo: t.slo }, t.thresholdSeconds)
    }
    return this.registry.metrics()
  }

  private metric(name: string, help: string, type: 'counter' | 'gauge', labels: readonly string[]): AnyMetric {
    const config = { name, help, labelNames: [...labels], registers: [this.registry] }
    const { Counter, Gauge } = promClient()
    return type === 'counter' ? new Counter(config) : new Gauge(config)
  }
}

function set(metric: AnyMetric, labels: Record<string, string>, value: number): void {
  if (metric instanceof promClient().Gauge) metric.set(labels, value)
  // A counter is never NaN or negative; a figure that is (none today) is left out rather than published wrong.
  else if (Number.isFinite(value) && value >= 0) metric.inc(labels, value)
}
