import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WorkflowMetrics } from './metrics.ts'
import { WorkflowStore } from './store.ts'

test('scheduler events become attempts by outcome, durations, queue time, missed SLAs; runs by status come from the store', async () => {
  const store = new WorkflowStore(':memory:')
  store.enqueue('w', ['a', 'b'], ['p1', 'p2'], 0)
  const m = new WorkflowMetrics('w', store)
  m.observe({ type: 'run-started', task: 'a', partition: 'p1', attempt: 1, queuedMs: 2_000 })
  m.observe({ type: 'run-failed', task: 'a', partition: 'p1', attempt: 1, durationMs: 500, error: 'x', retryInMs: 1000 })
  m.observe({ type: 'run-failed', task: 'a', partition: 'p2', attempt: 3, durationMs: 500, error: 'x', retryInMs: undefined })
  m.observe({ type: 'run-succeeded', task: 'b', partition: 'p1', attempt: 1, durationMs: 30_000 })
  m.observe({ type: 'run-cancelled', task: 'b', partition: 'p2', attempt: 1, durationMs: 10 })
  m.observe({ type: 'sla-missed', task: 'b', partition: 'p1', slaMs: 1000, lateMs: 5 })
  const text = await m.render()
  for (const line of [
    'sluice_workflow_task_attempts_total{workflow="w",task="a",outcome="retrying"} 1',
    'sluice_workflow_task_attempts_total{workflow="w",task="a",outcome="failed"} 1',
    'sluice_workflow_task_attempts_total{workflow="w",task="b",outcome="succeeded"} 1',
    'sluice_workflow_task_attempts_total{workflow="w",task="b",outcome="cancelled"} 1',
    'sluice_workflow_task_duration_seconds_sum{workflow="w",task="b",outcome="succeeded"} 30',
    'sluice_workflow_task_queue_seconds_sum{workflow="w",task="a"} 2',
    'sluice_workflow_sla_missed_total{workflow="w",task="b"} 1',
    'sluice_workflow_runs{workflow="w",status="pending"} 4',
  ]) assert.ok(text.includes(line), `missing: ${line}`)
  assert.ok(!text.includes('p1'), 'partitions are not labels')
})

test('the metrics server answers /metrics on loopback', async () => {
  const m = new WorkflowMetrics('w')
  m.observe({ type: 'sla-missed', task: 't', partition: 'p', slaMs: 1, lateMs: 1 })
  const server = await m.serve(0)
  try {
    const res = await fetch(`${server.url}/metrics`)
    assert.equal(res.status, 200)
    assert.match(await res.text(), /sluice_workflow_sla_missed_total\{workflow="w",task="t"\} 1/)
    assert.equal((await fetch(`${server.url}/nope`)).status, 404)
  } finally {
    await server.close()
  }
})
