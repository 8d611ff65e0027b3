import type { SloTarget } from './spec.ts'

/** Name of the end-to-end latency histogram of sinks (seconds from ingestion to write). */
export const LATENCY_HISTOGRAM = 'sluice_sink_latency_seconds'

/** The recorded series that holds a 0/1 sample per evaluation: is the output's event-time lag over the threshold. */
export const FRESHNESS_BAD = 'sluice:slo_freshness_bad:bool'

/** Windows over which the error ratio of every SLI is recorded: those of the burn-rate alerts. */
export const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const
export type Window = (typeof WINDOWS)[number]

/** The recording rule name of an SLI's error ratio over a window. */
export function ratioName(w: Window): string {
  return `sluice:slo_error_ratio:rate${w}`
}

const sources = (p: string) => `{pipeline="${p}",kind=~"source-.*"}`
const all = (p: string) => `{pipeline="${p}"}`

/**
 * PromQL for the share of bad events of one SLI over window `w` (0 to 1; NaN without traffic, which fires
 * no alert):
 * - errors: records on which a user function failed, over records read by the sources;
 * - completeness: records dropped as late or dead-lettered, over records read;
 * - latency: records written later than the threshold after ingestion, over records written;
 * - freshness: the share of evaluations at which the output's event-time lag was over the threshold.
 * @example errorRatio('orders', { slo: 'errors', objective: 0.999 }, '5m')
 */
export function errorRatio(pipeline: string, t: SloTarget, w: Window): string {
  const read = `sum(rate(sluice_step_input_records_total${sources(pipeline)}[${w}]))`
  switch (t.slo) {
    case 'errors':
      return `sum(rate(sluice_step_errors_total${all(pipeline)}[${w}])) / ${read}`
    case 'completeness':
      return `(sum(rate(sluice_step_late_records_total${all(pipeline)}[${w}])) + sum(rate(sluice_step_dead_letters_total${all(pipeline)}[${w}]))) / ${read}`
    case 'latency':
      return `1 - sum(rate(${LATENCY_HISTOGRAM}_bucket{pipeline="${pipeline}",le="${t.thresholdSeconds}"}[${w}])) / sum(rate(${LATENCY_HISTOGRAM}_count${all(pipeline)}[${w}]))`
    case 'freshness':
      return `avg_over_time(${FRESHNESS_BAD}{pipeline="${pipeline}"}[${w}])`
  }
}

/** PromQL of the freshness indicator: 1 when the slowest sink's event-time lag exceeds the threshold, else 0. */
export function freshnessBad(pipeline: string, thresholdSeconds: number): string {
  return `max(sluice_step_input_lag_seconds{pipeline="${pipeline}",kind=~"sink-.*"}) > bool ${thresholdSeconds}`
}
