import type { Yaml } from '../observe/slo/yaml.ts'
import { WORKFLOW_METRICS } from './metrics.ts'
import type { Workflow } from './workflow.ts'

export const SLA_ALERT = 'SluiceWorkflowSlaMissed'
export const FAILED_ALERT = 'SluiceWorkflowTaskFailed'
export const QUEUE_P95 = 'sluice:workflow_task_queue_seconds:p95_1h'
export const DURATION_P95 = 'sluice:workflow_task_duration_seconds:p95_1h'

/**
 * Prometheus rules for a workflow, from the metrics its scheduler serves (`sluice workflow run --metrics-port`):
 * the 95th percentile of queue time and of task duration per task over an hour (recording rules); an alert
 * (page) for each task with an SLA when one of its runs missed it in the last hour, and one (ticket) when a
 * task failed for good in the last hour. The result is a rule file's content (see `toYaml`).
 * @example const { groups } = workflowRules(wf) // what `sluice workflow rules` prints, as YAML
 */
export function workflowRules(wf: Workflow): { groups: Yaml[] } {
  const w = `workflow="${wf.name}"`
  const p95 = (metric: string) => `histogram_quantile(0.95, sum by (workflow, task, le) (rate(${metric}_bucket{${w}}[1h])))`
  const records: Yaml[] = [
    { record: QUEUE_P95, expr: p95(WORKFLOW_METRICS.queue) },
    { record: DURATION_P95, expr: p95(WORKFLOW_METRICS.duration) },
  ]
  const alerts: Yaml[] = wf.tasks
    .filter((t) => t.slaMs !== undefined)
    .map((t) => ({
      alert: SLA_ALERT,
      expr: `increase(${WORKFLOW_METRICS.slaMissed}{${w},task="${t.name}"}[1h]) > 0`,
      labels: { severity: 'page', workflow: wf.name, task: t.name },
      annotations: {
        summary: `Task ${t.name} of workflow ${wf.name} missed its SLA`,
        description: `A run of ${t.name} did not succeed within ${formatMs(t.slaMs!)} of being queued in the last hour. 'sluice workflow status' shows which partitions, 'sluice workflow history --task ${t.name}' why.`,
      },
    }))
  alerts.push({
    alert: FAILED_ALERT,
    expr: `sum by (workflow, task) (increase(${WORKFLOW_METRICS.attempts}{${w},outcome="failed"}[1h])) > 0`,
    labels: { severity: 'ticket', workflow: wf.name },
    annotations: {
      summary: `A task of workflow ${wf.name} failed for good`,
      description: `Task {{ $labels.task }} ran out of retries in the last hour; its downstream tasks did not run. Fix the cause, then 'sluice workflow retry'.`,
    },
  })
  return {
    groups: [
      { name: `sluice-workflow-${wf.name}-records`, rules: records },
      { name: `sluice-workflow-${wf.name}-alerts`, rules: alerts },
    ],
  }
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0) return `${ms / 60_000} min`
  return `${ms / 1000} s`
}
