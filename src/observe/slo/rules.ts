import { errorRatio, FRESHNESS_BAD, freshnessBad, ratioName, WINDOWS, type Window } from './sli.ts'
import { sloTargets, sloWindowSeconds, type SloSpec, type SloTarget } from './spec.ts'
import type { Yaml } from './yaml.ts'

/** One multi-window burn-rate alert: both windows must burn faster than `factor` times the budget allows. */
export interface BurnAlert {
  severity: 'page' | 'ticket'
  long: Window
  short: Window
  factor: number
}

/**
 * The SRE workbook's pairs: a fast burn (2% of a 30-day budget in 1 h, 5% in 6 h) pages, a slow one (10% in
 * 1 day, 10% in 3 days) opens a ticket. The short window makes an alert stop soon after the burn stops.
 */
export const BURN_ALERTS: readonly BurnAlert[] = [
  { severity: 'page', long: '1h', short: '5m', factor: 14.4 },
  { severity: 'page', long: '6h', short: '30m', factor: 6 },
  { severity: 'ticket', long: '1d', short: '2h', factor: 3 },
  { severity: 'ticket', long: '3d', short: '6h', factor: 1 },
]

export const ALERT_NAME = 'SluiceErrorBudgetBurn'
export const BUDGET_REMAINING = 'sluice:slo_error_budget_remaining:ratio'
export const PERIOD_RATIO = 'sluice:slo_error_ratio:period'
export const OBJECTIVE = 'sluice:slo_objective:ratio'
export const burnRateName = (w: Window) => `sluice:slo_burn_rate:rate${w}`

/** `x` without the noise of binary floating point (1 - 0.999 is 0.0010000000000000009). */
const round = (x: number) => Number(x.toPrecision(12))

/**
 * Prometheus rules for a pipeline's SLOs: recording rules for each SLI's error ratio over the alert windows,
 * budget figures (objective, error ratio over the compliance period, budget remaining, burn rates), and the
 * multi-window, multi-burn-rate alerts of `BURN_ALERTS`. The result is a rule file's content (see `toYaml`).
 * @example toYaml(sloRules('orders', { errors: { objective: 0.999 } })) // what `sluice slo rules` prints
 */
export function sloRules(pipeline: string, spec: SloSpec): { groups: Yaml[] } {
  const targets = sloTargets(spec, pipeline)
  const period = formatSeconds(sloWindowSeconds(spec, pipeline))
  const rules: Yaml[] = []
  const freshness = targets.find((t) => t.slo === 'freshness')
  if (freshness !== undefined) rules.push({ record: FRESHNESS_BAD, expr: freshnessBad(pipeline, freshness.thresholdSeconds!), labels: { pipeline } })
  for (const t of targets) {
    const labels = { pipeline, slo: t.slo }
    const sel = `{pipeline="${pipeline}",slo="${t.slo}"}`
    const budget = round(1 - t.objective)
    for (const w of WINDOWS) rules.push({ record: ratioName(w), expr: errorRatio(pipeline, t, w), labels })
    rules.push({ record: OBJECTIVE, expr: `vector(${t.objective})`, labels })
    rules.push({ record: PERIOD_RATIO, expr: `avg_over_time(${ratioName('5m')}${sel}[${period}])`, labels })
    rules.push({ record: BUDGET_REMAINING, expr: `1 - ${PERIOD_RATIO}${sel} / ${budget}`, labels })
    for (const w of WINDOWS) rules.push({ record: burnRateName(w), expr: `${ratioName(w)}${sel} / ${budget}`, labels })
  }
  const alerts: Yaml[] = []
  for (const t of targets) for (const a of BURN_ALERTS) alerts.push(alertRule(pipeline, t, a))
  return {
    groups: [
      { name: `sluice-slo-${pipeline}-records`, rules },
      { name: `sluice-slo-${pipeline}-alerts`, rules: alerts },
    ],
  }
}

function alertRule(pipeline: string, t: SloTarget, a: BurnAlert): Yaml {
  const sel = `{pipeline="${pipeline}",slo="${t.slo}"}`
  const limit = round(a.factor * (1 - t.objective))
  const burnt = round((a.factor * hours(a.long)) / (30 * 24) * 100)
  return {
    alert: ALERT_NAME,
    expr: `${ratioName(a.long)}${sel} > ${limit} and ${ratioName(a.short)}${sel} > ${limit}`,
    labels: { severity: a.severity, pipeline, slo: t.slo, long_window: a.long, short_window: a.short },
    annotations: {
      summary: `Pipeline ${pipeline} burns its ${t.slo} error budget ${a.factor}x as fast as the objective ${t.objective} allows`,
      description: `Over the last ${a.long} and ${a.short} more than ${round(limit * 100)}% of events were bad for the ${t.slo} SLO: at this rate ${burnt}% of a 30-day budget goes in ${a.long}. See the per-step panels of the pipeline's dashboard for where.`,
    },
  }
}

function hours(w: Window): number {
  const n = Number(w.slice(0, -1))
  return w.endsWith('m') ? n / 60 : w.endsWith('h') ? n : n * 24
}

/** Seconds as a Prometheus duration, in the largest unit that divides it ('30d', '36h', '90s'). */
function formatSeconds(s: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) if (s % size === 0) return `${s / size}${unit}`
  return `${s}s`
}
