import { parseDuration, type Duration } from '../../core/duration.ts'
import { userError } from '../../core/errors.ts'
import { LATENCY_BUCKETS_SECONDS } from '../../core/latency-histogram.ts'

/** An objective: the share of good events (records, or time for freshness) over a rolling window. */
export interface Objective {
  /** Target share of good events, strictly between 0 and 1, e.g. 0.999. */
  objective: number
}

/** An objective with a threshold that makes an event good: at most this lag or latency. */
export interface ThresholdObjective extends Objective {
  threshold: Duration
}

/**
 * A pipeline's service level objectives, declared next to its code (`pipeline(name, { slo })`).
 * - `freshness`: the share of time the output's event-time lag (processing time minus the sinks' watermark) is
 *   at most `threshold`;
 * - `latency`: the share of records written within `threshold` of their ingestion (a bucket bound of
 *   `LATENCY_BUCKETS_SECONDS`);
 * - `completeness`: the share of records read that were neither dropped as late nor dead-lettered;
 * - `errors`: the share of records read on which no user function failed.
 * `window` is the compliance period of the error budget (default 30 days).
 * @example
 * pipeline('orders', { slo: { freshness: { objective: 0.99, threshold: '2m' }, errors: { objective: 0.999 } } })
 */
export interface SloSpec {
  freshness?: ThresholdObjective
  latency?: ThresholdObjective
  completeness?: Objective
  errors?: Objective
  window?: Duration
}

export type SloName = 'freshness' | 'latency' | 'completeness' | 'errors'

/** One objective, normalised: name, target share, threshold in seconds where it has one. */
export interface SloTarget {
  slo: SloName
  objective: number
  thresholdSeconds?: number
}

export const SLO_NAMES: readonly SloName[] = ['freshness', 'latency', 'completeness', 'errors']

/** Upper bounds (seconds) of the end-to-end latency histogram: a latency threshold must be one of them. */
export { LATENCY_BUCKETS_SECONDS }

const DEFAULT_WINDOW_MS = 30 * 86_400_000

/**
 * Checks a pipeline's `slo` option and returns its objectives in a fixed order. Thrown errors are
 * SLUICE_BAD_OPTION naming the objective.
 * @example sloTargets({ latency: { objective: 0.999, threshold: '500ms' } }) // [{ slo: 'latency', objective: 0.999, thresholdSeconds: 0.5 }]
 */
export function sloTargets(spec: SloSpec, pipeline = 'pipeline'): SloTarget[] {
  if (typeof spec !== 'object' || spec === null) throw bad(pipeline, 'slo', 'must be an object such as { errors: { objective: 0.999 } }')
  const known = new Set<string>([...SLO_NAMES, 'window'])
  for (const k of Object.keys(spec)) if (!known.has(k)) throw bad(pipeline, `slo.${k}`, `is not an objective (known: ${SLO_NAMES.join(', ')}, window)`)
  const targets: SloTarget[] = []
  for (const slo of SLO_NAMES) {
    const o = spec[slo]
    if (o === undefined) continue
    const objective = (o as Objective).objective
    if (typeof objective !== 'number' || !(objective > 0 && objective < 1)) throw bad(pipeline, `slo.${slo}.objective`, 'must be a number between 0 and 1 (exclusive), e.g. 0.999')
    const t: SloTarget = { slo, objective }
    if (slo === 'freshness' || slo === 'latency') {
      const threshold = (o as ThresholdObjective).threshold
      if (threshold === undefined) throw bad(pipeline, `slo.${slo}.threshold`, "is required, e.g. '2m'")
      t.thresholdSeconds = parseDuration(threshold, `pipeline '${pipeline}': slo.${slo}.threshold`) / 1000
      if (slo === 'latency' && !LATENCY_BUCKETS_SECONDS.includes(t.thresholdSeconds)) {
        throw bad(pipeline, 'slo.latency.threshold', `must be a bound of the latency histogram (seconds: ${LATENCY_BUCKETS_SECONDS.join(', ')})`)
      }
    }
    targets.push(t)
  }
  sloWindowSeconds(spec, pipeline)
  return targets
}

/** The compliance period of the error budget in seconds (default 30 days). */
export function sloWindowSeconds(spec: SloSpec, pipeline = 'pipeline'): number {
  if (spec.window === undefined) return DEFAULT_WINDOW_MS / 1000
  const ms = parseDuration(spec.window, `pipeline '${pipeline}': slo.window`)
  if (ms < 86_400_000) throw bad(pipeline, 'slo.window', "must be at least a day (the slowest alert looks 3 days back), e.g. '30d'")
  return ms / 1000
}

function bad(pipeline: string, option: string, what: string) {
  return userError('SLUICE_BAD_OPTION', `pipeline '${pipeline}': ${option} ${what}`, { hint: "see 'SLOs as code' in the README" })
}
