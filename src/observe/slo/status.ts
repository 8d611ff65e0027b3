import { SluiceError } from '../../core/errors.ts'
import { BUDGET_REMAINING, burnRateName, PERIOD_RATIO, ALERT_NAME } from './rules.ts'
import { sloTargets, type SloName, type SloSpec } from './spec.ts'

/** The live figures of one SLO, as the Prometheus that runs the rules of `sloRules` knows them (NaN: no data yet). */
export interface SloStatus {
  slo: SloName
  objective: number
  /** Share of good events over the compliance period. */
  sli: number
  /** Share of the error budget left (below 0: overspent). */
  budgetLeft: number
  burnRate1h: number
  burnRate6h: number
  /** Burn-rate alerts firing now, e.g. ['page 1h/5m']. */
  alerts: string[]
}

/**
 * Asks Prometheus for the live SLIs, error budgets and burn rates of a pipeline's SLOs.
 * @example const status = await sloStatus('http://127.0.0.1:9090', 'orders', { errors: { objective: 0.999 } })
 */
export async function sloStatus(prometheusUrl: string, pipeline: string, spec: SloSpec): Promise<SloStatus[]> {
  const sel = `{pipeline="${pipeline}"}`
  const [period, budget, burn1h, burn6h, alerts] = await Promise.all([
    query(prometheusUrl, `${PERIOD_RATIO}${sel}`),
    query(prometheusUrl, `${BUDGET_REMAINING}${sel}`),
    query(prometheusUrl, `${burnRateName('1h')}${sel}`),
    query(prometheusUrl, `${burnRateName('6h')}${sel}`),
    query(prometheusUrl, `ALERTS{alertname="${ALERT_NAME}",alertstate="firing",pipeline="${pipeline}"}`),
  ])
  const of = (rows: Row[], slo: string) => Number(rows.find((r) => r.metric.slo === slo)?.value[1] ?? NaN)
  return sloTargets(spec, pipeline).map((t) => ({
    slo: t.slo,
    objective: t.objective,
    sli: 1 - of(period, t.slo),
    budgetLeft: of(budget, t.slo),
    burnRate1h: of(burn1h, t.slo),
    burnRate6h: of(burn6h, t.slo),
    alerts: alerts.filter((a) => a.metric.slo === t.slo).map((a) => `${a.metric.severity} ${a.metric.long_window}/${a.metric.short_window}`),
  }))
}

/** The status as a table for a terminal. */
export function formatSloStatus(rows: SloStatus[]): string {
  const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(3)}%`)
  const num = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(2))
  const table = [['slo', 'objective', 'sli', 'budget left', 'burn 1h', 'burn 6h', 'alerts']]
  for (const r of rows) table.push([r.slo, pct(r.objective), pct(r.sli), pct(r.budgetLeft), num(r.burnRate1h), num(r.burnRate6h), r.alerts.join(', ') || '-'])
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)))
  return table.map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n'
}

interface Row {
  metric: Record<string, string>
  value: [number, string]
}

async function query(url: string, promql: string): Promise<Row[]> {
  let body: { status?: string; error?: string; data?: { result?: Row[] } }
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(10_000) })
    body = (await res.json()) as typeof body
  } catch (e) {
    throw new SluiceError('SLUICE_PROMETHEUS_UNAVAILABLE', `Prometheus at ${url} did not answer`, { cause: e, retryable: true, hint: 'give the server that scrapes the job and loads its rules with --prometheus URL' })
  }
  if (body.status !== 'success') throw new SluiceError('SLUICE_PROMETHEUS_UNAVAILABLE', `Prometheus at ${url} refused a query: ${body.error ?? 'no reason given'}`, { hint: 'check that it is a Prometheus server (the URL without /api)' })
  return body.data?.result ?? []
}
