import { BUDGET_REMAINING, burnRateName, PERIOD_RATIO } from './rules.ts'
import { sloTargets, type SloSpec } from './spec.ts'

/** A Grafana dashboard as plain JSON data (import it, or provision it from a file). */
export type GrafanaDashboard = Record<string, unknown>

interface Panel {
  title: string
  type: 'timeseries' | 'stat' | 'gauge'
  targets: { expr: string; legend: string }[]
  unit: string
  description: string
  thresholds?: { value: number | null; color: string }[]
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }

/**
 * A Grafana dashboard for one pipeline: its SLIs, error budgets and burn rates (from the rules of `sloRules`),
 * then per-step throughput, errors, lag, backpressure, per-subtask skew, state and checkpoints (from the
 * exporter's metrics). The Prometheus data source is a dashboard variable.
 * @example JSON.stringify(sloDashboard('orders', { errors: { objective: 0.999 } }), null, 2) // what `sluice slo dashboard` prints
 */
export function sloDashboard(pipeline: string, spec: SloSpec = {}): GrafanaDashboard {
  const p = `pipeline="${pipeline}"`
  const rows: [string, Panel[]][] = []
  const slo: Panel[] = []
  for (const t of sloTargets(spec, pipeline)) {
    const sel = `{${p},slo="${t.slo}"}`
    const bound = t.thresholdSeconds !== undefined ? ` within ${t.thresholdSeconds} s` : ''
    slo.push(
      { title: `${t.slo}: SLI over the period`, type: 'stat', unit: 'percentunit', targets: [{ expr: `1 - ${PERIOD_RATIO}${sel}`, legend: t.slo }], description: `Share of good events${bound} over the compliance period; the objective is ${t.objective}.`, thresholds: [{ value: null, color: 'red' }, { value: t.objective, color: 'green' }] },
      { title: `${t.slo}: error budget left`, type: 'gauge', unit: 'percentunit', targets: [{ expr: `${BUDGET_REMAINING}${sel}`, legend: 'budget left' }], description: 'Share of the error budget not yet spent in the compliance period (below 0: overspent).', thresholds: [{ value: null, color: 'red' }, { value: 0.25, color: 'orange' }, { value: 0.5, color: 'green' }] },
      { title: `${t.slo}: burn rate`, type: 'timeseries', unit: 'none', targets: (['5m', '1h', '6h', '1d', '3d'] as const).map((w) => ({ expr: `${burnRateName(w)}${sel}`, legend: w })), description: 'How many times faster than the objective allows the budget is spent: 1 spends it in exactly the period; the alerts page at 14.4 (1h) and 6 (6h).', thresholds: [{ value: null, color: 'green' }, { value: 1, color: 'orange' }, { value: 6, color: 'red' }] },
    )
  }
  if (slo.length > 0) rows.push(['Service level objectives', slo])
  const byStep = (metric: string, extra = '') => `sum by (step) (rate(${metric}{${p}${extra}}[1m]))`
  rows.push(
    ['Throughput and errors', [
      { title: 'Records in per step', type: 'timeseries', unit: 'rps', targets: [{ expr: byStep('sluice_step_input_records_total'), legend: '{{step}}' }], description: 'Records each step receives per second (read, for a source).' },
      { title: 'Records out per step', type: 'timeseries', unit: 'rps', targets: [{ expr: byStep('sluice_step_output_records_total'), legend: '{{step}}' }], description: 'Records each step emits per second.' },
      { title: 'Errors, late records, dead letters', type: 'timeseries', unit: 'rps', targets: [{ expr: byStep('sluice_step_errors_total'), legend: 'errors {{step}}' }, { expr: byStep('sluice_step_late_records_total'), legend: 'late {{step}}' }, { expr: byStep('sluice_step_dead_letters_total'), legend: 'dead letters {{step}}' }, { expr: byStep('sluice_step_dropped_records_total'), legend: 'dropped {{step}}' }], description: 'Bad records per second, per step and kind.' },
    ]],
    ['Event time and pressure', [
      { title: 'Event-time lag per step', type: 'timeseries', unit: 's', targets: [{ expr: `max by (step) (sluice_step_input_lag_seconds{${p}})`, legend: '{{step}}' }], description: 'Processing time minus the input watermark: how far behind the clock each step is.' },
      { title: 'Backpressure per step', type: 'timeseries', unit: 'percentunit', targets: [{ expr: `max by (step) (rate(sluice_step_backpressure_seconds_total{${p}}[1m]))`, legend: '{{step}}' }], description: 'Share of time the busiest subtask of a step waits on a full output: the step after it is the bottleneck.' },
      { title: 'Records in per subtask (skew)', type: 'timeseries', unit: 'rps', targets: [{ expr: `sum by (step, subtask) (rate(sluice_step_input_records_total{${p},kind!~"source-.*"}[1m]))`, legend: '{{step}} #{{subtask}}' }], description: 'A subtask far above the others of its step carries a hot key.' },
    ]],
    ['State and checkpoints', [
      { title: 'Checkpoint duration and alignment', type: 'timeseries', unit: 's', targets: [{ expr: `sluice_checkpoint_last_duration_seconds{${p}}`, legend: 'duration' }, { expr: `sluice_checkpoint_last_alignment_seconds{${p}}`, legend: 'alignment' }], description: 'Of the last completed checkpoint: from start to manifest, and barrier alignment.' },
      { title: 'Checkpoint size and failures', type: 'timeseries', unit: 'bytes', targets: [{ expr: `sluice_checkpoint_last_size_bytes{${p}}`, legend: 'size' }, { expr: `increase(sluice_checkpoint_failed_total{${p}}[10m])`, legend: 'failed in 10m' }], description: 'Size of the last completed checkpoint, and failed checkpoints.' },
      { title: 'Keyed state', type: 'timeseries', unit: 'short', targets: [{ expr: `sum by (step) (sluice_step_state_keys{${p}})`, legend: 'keys {{step}}' }, { expr: `increase(sluice_job_restarts_total{${p}}[1h])`, legend: 'restarts in 1h' }], description: 'Keys held per keyed step, and restarts after failures.' },
    ]],
  )
  return {
    title: `Sluice: ${pipeline}`,
    uid: `sluice-${pipeline}`.slice(0, 40),
    tags: ['sluice'],
    timezone: 'utc',
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: { list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' }] },
    panels: layout(rows),
  }
}

/** Rows of three panels across Grafana's 24-column grid. */
function layout(rows: [string, Panel[]][]): unknown[] {
  const out: unknown[] = []
  let y = 0
  let id = 1
  for (const [title, panels] of rows) {
    out.push({ id: id++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y++ }, panels: [] })
    panels.forEach((panel, i) => {
      if (i > 0 && i % 3 === 0) y += 8
      out.push({
        id: id++,
        type: panel.type,
        title: panel.title,
        description: panel.description,
        datasource: DATASOURCE,
        gridPos: { h: 8, w: 8, x: (i % 3) * 8, y },
        fieldConfig: { defaults: { unit: panel.unit, ...(panel.thresholds !== undefined ? { thresholds: { mode: 'absolute', steps: panel.thresholds } } : {}) }, overrides: [] },
        targets: panel.targets.map((t, k) => ({ refId: String.fromCharCode(65 + k), datasource: DATASOURCE, expr: t.expr, legendFormat: t.legend })),
      })
    })
    y += 8
  }
  return out
}
