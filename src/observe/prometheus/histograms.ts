import type { Registry } from 'prom-client'
import { LATENCY_BUCKETS_SECONDS, type LatencyHistogram } from '../../core/latency-histogram.ts'
import type { SinkLatency, StepMetricsValues } from '../../core/metrics.ts'
import { LATENCY_HISTOGRAM } from '../slo/sli.ts'

/** A histogram of every sink's figures, published through prom-client (which has no way to set one from counts). */
export interface HistogramInfo {
  name: string
  help: string
  field: keyof SinkLatency
}

/** The end-to-end latency histograms of sinks, in seconds, with the buckets of `LATENCY_BUCKETS_SECONDS`. */
export const LATENCY_HISTOGRAMS: readonly HistogramInfo[] = [
  { name: LATENCY_HISTOGRAM, help: 'Time from a record being read by its source (its batch ingested) to being written by the sink.', field: 'ingest' },
  { name: 'sluice_sink_event_time_latency_seconds', help: 'Time from a record\'s event time to being written by the sink (windows add their size and the watermark bound).', field: 'eventTime' },
]

interface Sample {
  metricName: string
  labels: Record<string, string | number>
  value: number
}

/**
 * One latency histogram as a prom-client metric: `get()` returns the `_bucket` (cumulative, with `le`), `_sum`
 * and `_count` series of the subtasks set by `set` from a snapshot.
 * @example registry.registerMetric(new SnapshotHistogram(LATENCY_HISTOGRAMS[0]) as never)
 */
export class SnapshotHistogram {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly field: keyof SinkLatency
  private samples: Sample[] = []

  constructor(info: HistogramInfo, registry: Registry) {
    this.name = info.name
    this.help = info.help
    this.field = info.field
    registry.registerMetric(this as never)
  }

  /** Takes the subtasks' histograms (sinks only) from one snapshot's figures. */
  set(pipeline: string, subtasks: readonly StepMetricsValues[]): void {
    this.samples = []
    for (const t of subtasks) {
      const h = t.latency?.[this.field]
      if (h === undefined) continue
      this.add({ pipeline, step: t.step, kind: t.kind, subtask: String(t.subtask) }, h)
    }
  }

  private add(labels: Record<string, string>, h: LatencyHistogram): void {
    let cumulative = 0
    for (let i = 0; i < h.counts.length; i++) {
      cumulative += h.counts[i]
      const le = i < LATENCY_BUCKETS_SECONDS.length ? LATENCY_BUCKETS_SECONDS[i] : '+Inf'
      this.samples.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative })
    }
    this.samples.push({ metricName: `${this.name}_sum`, labels, value: h.sumMs / 1000 })
    this.samples.push({ metricName: `${this.name}_count`, labels, value: h.count })
  }

  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.samples, aggregator: this.aggregator }
  }

  reset(): void {
    this.samples = []
  }
}
