// `sluice slo`: rules and dashboard from a pipeline file, status from a Prometheus server.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sluice } from '../cli/sluice.ts'
import { serviceOrSkip } from '../support/services.ts'

const example = 'examples/monitored-orders/pipeline.ts'
const prometheus = serviceOrSkip('prometheus')

test('sluice slo rules and dashboard print to stdout', () => {
  const rules = sluice(['slo', 'rules', example])
  assert.equal(rules.code, 0, rules.stderr)
  assert.match(rules.stdout, /^groups:\n {2}- name: "sluice-slo-orders-records"\n/)
  const dashboard = sluice(['slo', 'dashboard', example])
  assert.equal(dashboard.code, 0, dashboard.stderr)
  assert.equal((JSON.parse(dashboard.stdout) as { title: string }).title, 'Sluice: orders')
})

test('sluice slo: an unknown action is a usage error, a pipeline without SLOs a user error', () => {
  const bad = sluice(['slo', 'burn', example])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /unknown action 'burn' \(give one of: rules, dashboard, status\)/)
  const none = sluice(['slo', 'rules', 'examples/quickstart/pipeline.ts'])
  assert.equal(none.code, 3)
  assert.match(none.stderr, /SLUICE_NO_SLO/)
})

test('sluice slo status: a Prometheus that does not answer is named', () => {
  const r = sluice(['slo', 'status', example, '--prometheus', 'http://127.0.0.1:9'])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /SLUICE_PROMETHEUS_UNAVAILABLE.*127\.0\.0\.1:9/)
})

test('sluice slo status asks Prometheus: no data yet shows as -', { skip: prometheus.skip }, () => {
  const r = sluice(['slo', 'status', example, '--prometheus', String(prometheus.info!.url), '--json'])
  assert.equal(r.code, 0, r.stderr)
  const rows = JSON.parse(r.stdout) as { slo: string; objective: number; budgetLeft: number | null; alerts: string[] }[]
  assert.deepEqual(rows.map((x) => [x.slo, x.objective, x.budgetLeft, x.alerts]), [
    ['freshness', 0.99, null, []],
    ['latency', 0.999, null, []],
    ['completeness', 0.9999, null, []],
    ['errors', 0.999, null, []],
  ])
  const table = sluice(['slo', 'status', example, '--prometheus', String(prometheus.info!.url)])
  assert.match(table.stdout, /^slo +objective +sli +budget left +burn 1h +burn 6h +alerts\nfreshness +99\.000% +- +- +- +- +-\n/)
})
