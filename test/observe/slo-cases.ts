// Synthetic series for the SLO rules' promtool unit tests: every SLI burning its budget at chosen multiples.
import { BURN_ALERTS, sloRules, type BurnAlert } from '../../src/observe/slo/rules.ts'
import type { SloName, SloSpec } from '../../src/observe/slo/spec.ts'
import type { Yaml } from '../../src/observe/slo/yaml.ts'

export const P = 'orders'
// Budgets chosen so that a burn of 20x is still a share of at most 1 (freshness: 5% of the time).
export const SPEC: SloSpec = {
  freshness: { objective: 0.95, threshold: '2m' },
  latency: { objective: 0.999, threshold: '500ms' },
  completeness: { objective: 0.9999 },
  errors: { objective: 0.999 },
}
const BUDGET: Record<SloName, number> = { freshness: 0.05, latency: 0.001, completeness: 0.0001, errors: 0.001 }
const PER_MINUTE = 60_000

/** Minutes at a burn rate (multiples of the budget: 0, 2, 4, 8 or 20). */
type Segment = [minutes: number, burn: number]

/** One series per figure the SLIs read, a sample a minute, every SLO burning at the same multiple of its budget. */
export function inputSeries(segments: Segment[]): Yaml[] {
  const burns = segments.flatMap(([m, b]) => Array<number>(m).fill(b))
  const counter = (perMinute: (burn: number) => number) => {
    let total = 0
    return [0, ...burns.map((b) => (total += perMinute(b)))].join(' ')
  }
  const bad = (slo: SloName) => (b: number) => Math.round(b * BUDGET[slo] * PER_MINUTE)
  // Freshness is a gauge, sampled by the rules every 2 minutes: of every ten 2-minute spans, burn x 0.05 x 10 are
  // over the threshold, spread evenly.
  const lag = burns.map((b, j) => {
    const k = Math.round(b * BUDGET.freshness * 10)
    const q = Math.floor((j + 1) / 2)
    return Math.floor(((q + 1) * k) / 10) > Math.floor((q * k) / 10) ? 300 : 10
  })
  const s = (name: string, labels: string, values: string) => ({ series: `${name}{pipeline="${P}",${labels}}`, values })
  return [
    s('sluice_step_input_records_total', 'step="read",kind="source-gen",subtask="0"', counter(() => PER_MINUTE)),
    s('sluice_step_errors_total', 'step="enrich",kind="map",subtask="0"', counter(bad('errors'))),
    s('sluice_step_late_records_total', 'step="per-minute",kind="window-aggregate",subtask="0"', counter((b) => bad('completeness')(b) / 2)),
    s('sluice_step_dead_letters_total', 'step="enrich",kind="map",subtask="0"', counter((b) => bad('completeness')(b) / 2)),
    s('sluice_sink_latency_seconds_bucket', 'step="write",le="0.5"', counter((b) => PER_MINUTE - bad('latency')(b))),
    s('sluice_sink_latency_seconds_count', 'step="write"', counter(() => PER_MINUTE)),
    s('sluice_step_input_lag_seconds', 'step="write",kind="sink-jsonl",subtask="0"', [10, ...lag].join(' ')),
  ]
}

export const rules = sloRules(P, SPEC)
const alertRules = (rules.groups[1] as { rules: { labels: Record<string, string>; annotations: Record<string, string> }[] }).rules

/** The alerts expected at one time: these pairs fire for every SLO, the others are silent. */
export function expectAlerts(minute: number, firing: BurnAlert[]): Yaml {
  const exp = alertRules
    .filter((r) => firing.some((a) => a.long === r.labels.long_window))
    .map((r) => ({ exp_labels: r.labels, exp_annotations: r.annotations }))
  return { eval_time: `${minute}m`, alertname: 'SluiceErrorBudgetBurn', exp_alerts: exp }
}

const [page1h, page6h, ticket1d, ticket3d] = BURN_ALERTS

/** Each case: its series, and at given minutes the alerts that fire (all others must not). */
export const cases: { name: string; segments: Segment[]; at: [number, BurnAlert[]][] }[] = [
  { name: 'healthy: nothing fires', segments: [[120, 0]], at: [[60, []], [120, []]] },
  // After 6 healthy hours, 50 minutes at 20x are 2.4x over the day and the 3 days: the 1d ticket stays silent.
  { name: 'a fast burn of 50 minutes pages (1h/5m), not 6h/30m nor 1d/2h', segments: [[360, 0], [50, 20]], at: [[410, [page1h, ticket3d]]] },
  { name: 'a burn of 8x for 7 hours: the 6h/30m page and both tickets', segments: [[420, 8]], at: [[420, [page6h, ticket1d, ticket3d]]] },
  { name: 'a burn of 4x: both tickets, no page', segments: [[420, 4]], at: [[420, [ticket1d, ticket3d]]] },
  { name: 'a burn of 2x: only the 3d/6h ticket', segments: [[420, 2]], at: [[420, [ticket3d]]] },
  {
    name: 'the fast page stops within minutes of the burn stopping, the slower alerts hold',
    segments: [[120, 20], [10, 0]],
    at: [[60, [page1h, page6h, ticket1d, ticket3d]], [130, [page6h, ticket1d, ticket3d]]],
  },
]

