import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SluiceError } from '../../core/errors.ts'
import { pipeline } from '../../api/pipeline.ts'
import { sloDashboard } from './dashboard.ts'
import { ALERT_NAME, BURN_ALERTS, sloRules } from './rules.ts'
import { sloTargets, sloWindowSeconds } from './spec.ts'
import { toYaml } from './yaml.ts'

const badOption = (message: RegExp) => (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION' && message.test(e.message)

test('objectives are checked when the pipeline is declared, and normalised', () => {
  assert.deepEqual(sloTargets({ errors: { objective: 0.999 }, freshness: { objective: 0.99, threshold: '2m' } }), [
    { slo: 'freshness', objective: 0.99, thresholdSeconds: 120 },
    { slo: 'errors', objective: 0.999 },
  ])
  assert.throws(() => pipeline('p', { slo: { errors: { objective: 1 } } }), badOption(/slo\.errors\.objective must be a number between 0 and 1/))
  assert.throws(() => pipeline('p', { slo: { freshness: { objective: 0.9 } as never } }), badOption(/slo\.freshness\.threshold is required/))
  assert.throws(() => pipeline('p', { slo: { latency: { objective: 0.9, threshold: '300ms' } } }), badOption(/must be a bound of the latency histogram/))
  assert.throws(() => pipeline('p', { slo: { speed: {} } as never }), badOption(/slo\.speed is not an objective/))
  assert.throws(() => pipeline('p', { slo: { window: '1h' } }), badOption(/slo\.window must be at least a day/))
  assert.equal(sloWindowSeconds({ window: '28d' }), 28 * 86_400)
  assert.deepEqual(pipeline('p', { slo: { errors: { objective: 0.99 } } }).options.slo, { errors: { objective: 0.99 } })
})

test('rules: a ratio per SLI and window, budget figures, and four burn-rate alerts per SLO', () => {
  const rules = sloRules('orders', { errors: { objective: 0.999 }, latency: { objective: 0.99, threshold: '500ms' }, window: '28d' })
  const [records, alerts] = rules.groups as { name: string; rules: Record<string, unknown>[] }[]
  assert.equal(records.name, 'sluice-slo-orders-records')
  const expr = (record: string, slo: string) => records.rules.find((r) => r.record === record && (r.labels as Record<string, string>).slo === slo)?.expr
  assert.equal(expr('sluice:slo_error_ratio:rate1h', 'errors'), 'sum(rate(sluice_step_errors_total{pipeline="orders"}[1h])) / sum(rate(sluice_step_input_records_total{pipeline="orders",kind=~"source-.*"}[1h]))')
  assert.match(String(expr('sluice:slo_error_ratio:rate5m', 'latency')), /le="0\.5"/)
  assert.equal(expr('sluice:slo_error_ratio:period', 'errors'), 'avg_over_time(sluice:slo_error_ratio:rate5m{pipeline="orders",slo="errors"}[28d])')
  assert.equal(expr('sluice:slo_error_budget_remaining:ratio', 'latency'), '1 - sluice:slo_error_ratio:period{pipeline="orders",slo="latency"} / 0.01')
  assert.equal(alerts.rules.length, 2 * BURN_ALERTS.length)
  const page = alerts.rules.find((r) => (r.labels as Record<string, string>).slo === 'errors' && (r.labels as Record<string, string>).long_window === '1h')!
  assert.equal(page.alert, ALERT_NAME)
  assert.equal(page.expr, 'sluice:slo_error_ratio:rate1h{pipeline="orders",slo="errors"} > 0.0144 and sluice:slo_error_ratio:rate5m{pipeline="orders",slo="errors"} > 0.0144')
  assert.deepEqual(page.labels, { severity: 'page', pipeline: 'orders', slo: 'errors', long_window: '1h', short_window: '5m' })
})

test('YAML: strings double-quoted, nesting by indentation, empty collections inline', () => {
  assert.equal(toYaml({ groups: [{ name: 'g', rules: [] }], n: 1, l: ['a: b', 2], o: {} }), 'groups:\n  - name: "g"\n    rules: []\nn: 1\nl:\n  - "a: b"\n  - 2\no: {}\n')
})

test('dashboard: SLO panels read the recorded figures, step panels the exporter, on a Prometheus variable', () => {
  const d = sloDashboard('orders', { errors: { objective: 0.999 } }) as { uid: string; panels: { type: string; title: string; targets?: { expr: string }[]; gridPos: { x: number; y: number; w: number } }[] }
  assert.equal(d.uid, 'sluice-orders')
  const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))
  assert.ok(exprs.includes('sluice:slo_error_budget_remaining:ratio{pipeline="orders",slo="errors"}'))
  assert.ok(exprs.some((e) => e.startsWith('sum by (step) (rate(sluice_step_input_records_total{pipeline="orders"}')))
  for (const e of exprs) assert.match(e, /pipeline="orders"/)
  for (const p of d.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title)
  const cells = new Set(d.panels.map((p) => `${p.gridPos.x},${p.gridPos.y}`))
  assert.equal(cells.size, d.panels.length, 'no two panels in the same place')
  assert.equal(sloDashboard('orders').panels instanceof Array, true, 'a pipeline without SLOs still gets the step panels')
})
