// The generated SLO rules under promtool: `check rules` accepts them, and `test rules` proves on synthetic
// series that each burn-rate alert fires when its two windows burn fast enough and stays silent otherwise.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { toYaml, type Yaml } from '../../src/observe/slo/yaml.ts'
import { serviceOrSkip } from '../support/services.ts'
import { cases, expectAlerts, inputSeries, P, rules } from './slo-cases.ts'

const prometheus = serviceOrSkip('prometheus')

test('promtool check rules accepts the generated rules', { skip: prometheus.skip }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-slo-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'rules.yml'), toYaml(rules))
  const out = execFileSync(String(prometheus.info!.promtool), ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' })
  assert.match(out, /SUCCESS: \d+ rules found/)
})

test('promtool test rules: each burn-rate alert fires, and stays silent, on synthetic series', { skip: prometheus.skip, timeout: 300_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-slo-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'rules.yml'), toYaml(rules))
  const tests: Yaml[] = cases.map((c) => ({
    name: c.name,
    interval: '1m',
    input_series: inputSeries(c.segments),
    alert_rule_test: c.at.map(([minute, firing]) => expectAlerts(minute, firing)),
  }))
  // Budget figures: a healthy run leaves the whole budget; a 2x burn shows as a burn rate of 2.
  const healthy = tests[0] as { promql_expr_test?: Yaml[] }
  healthy.promql_expr_test = [
    { expr: `sluice:slo_error_budget_remaining:ratio{slo="errors"}`, eval_time: '120m', exp_samples: [{ labels: `sluice:slo_error_budget_remaining:ratio{pipeline="${P}",slo="errors"}`, value: 1 }] },
  ]
  const slow = tests[4] as { promql_expr_test?: Yaml[] }
  slow.promql_expr_test = (['errors', 'completeness', 'latency', 'freshness'] as const).map((slo) => ({
    expr: `round(sluice:slo_burn_rate:rate6h{slo="${slo}"})`,
    eval_time: '420m',
    exp_samples: [{ labels: `{pipeline="${P}",slo="${slo}"}`, value: 2 }],
  }))
  writeFileSync(join(dir, 'tests.yml'), toYaml({ rule_files: ['rules.yml'], evaluation_interval: '2m', tests }))
  try {
    execFileSync(String(prometheus.info!.promtool), ['test', 'rules', join(dir, 'tests.yml')], { encoding: 'utf8', cwd: dir, stdio: 'pipe' })
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string }
    assert.fail(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`.slice(0, 6000))
  }
})
