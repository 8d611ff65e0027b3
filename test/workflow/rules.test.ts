// The workflow alert rules under promtool: `check rules` accepts them, and `test rules` proves on synthetic
// series that the SLA alert fires after a missed SLA and the failure alert after a final failure, and that
// neither fires on a healthy workflow.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { toYaml, type Yaml } from '../../src/observe/slo/yaml.ts'
import { fnTask, workflow } from '../../src/workflow/index.ts'
import { FAILED_ALERT, SLA_ALERT, workflowRules } from '../../src/workflow/rules.ts'
import { serviceOrSkip } from '../support/services.ts'

const prometheus = serviceOrSkip('prometheus')
const wf = workflow('hourly')
  .task('ingest', fnTask(() => {}), { slaMs: 30 * 60_000 })
  .task('publish', fnTask(() => {}), { dependsOn: ['ingest'] })
  .build()

function promtool(dir: string, ...args: string[]): string {
  try {
    return execFileSync(String(prometheus.info!.promtool), args, { encoding: 'utf8', cwd: dir, stdio: 'pipe' })
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string }
    return assert.fail(`promtool ${args[0]} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`.slice(0, 6000))
  }
}

test('the generated workflow rules pass promtool check and test rules', { skip: prometheus.skip, timeout: 120_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-rules-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'rules.yml'), toYaml(workflowRules(wf)))
  assert.match(promtool(dir, 'check', 'rules', 'rules.yml'), /SUCCESS: 4 rules found/)
  const groups = workflowRules(wf).groups as { rules: { alert?: string; annotations?: Record<string, string> }[] }[]
  const annotations = (alert: string, task: string): Yaml => {
    const a = groups[1]!.rules.find((r) => r.alert === alert)!.annotations!
    return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.replaceAll('{{ $labels.task }}', task)]))
  }
  const at = (minute: number, alertname: string, exp: Yaml[]): Yaml => ({ eval_time: `${minute}m`, alertname, exp_alerts: exp })
  const tests: Yaml[] = [
    {
      name: 'healthy: successes only, no SLA missed',
      interval: '1m',
      input_series: [
        { series: 'sluice_workflow_task_attempts_total{workflow="hourly",task="ingest",outcome="succeeded"}', values: '0+1x120' },
        { series: 'sluice_workflow_sla_missed_total{workflow="hourly",task="ingest"}', values: '0x120' },
        { series: 'sluice_workflow_task_attempts_total{workflow="hourly",task="publish",outcome="failed"}', values: '0x120' },
      ],
      alert_rule_test: [at(60, SLA_ALERT, []), at(60, FAILED_ALERT, [])],
    },
    {
      name: 'an SLA missed at minute 30 pages for an hour; a final failure at minute 40 opens a ticket',
      interval: '1m',
      input_series: [
        { series: 'sluice_workflow_sla_missed_total{workflow="hourly",task="ingest"}', values: '0x29 1x150' },
        { series: 'sluice_workflow_task_attempts_total{workflow="hourly",task="publish",outcome="failed"}', values: '0x39 1x150' },
      ],
      alert_rule_test: [
        at(20, SLA_ALERT, []),
        at(45, SLA_ALERT, [{ exp_labels: { severity: 'page', workflow: 'hourly', task: 'ingest' }, exp_annotations: annotations(SLA_ALERT, 'ingest') }]),
        at(120, SLA_ALERT, []),
        at(35, FAILED_ALERT, []),
        at(50, FAILED_ALERT, [{ exp_labels: { severity: 'ticket', workflow: 'hourly', task: 'publish' }, exp_annotations: annotations(FAILED_ALERT, 'publish') }]),
      ],
    },
  ]
  writeFileSync(join(dir, 'tests.yml'), toYaml({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests }))
  promtool(dir, 'test', 'rules', 'tests.yml')
})
