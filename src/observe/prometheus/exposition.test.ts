import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MetricsRegistry } from '../metrics/registry.ts'
import { JOB_METRICS, STEP_METRICS } from '../metrics/catalog.ts'
import { PrometheusExposition } from './exposition.ts'
import { sampleRegistry } from './test-registry.ts'

/** `name{labels} value` lines as a map from the series to its value. */
function series(text: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    m.set(line.slice(0, at), line.slice(at + 1))
  }
  return m
}

const sub = (step: string, kind: string, subtask: number) => `{pipeline="orders",step="${step}",kind="${kind}",subtask="${subtask}"}`

test('every catalog figure is published per step and subtask, in base units', async () => {
  const text = await new PrometheusExposition().render(sampleRegistry().snapshot())
  const s = series(text)
  assert.equal(s.get(`sluice_step_input_records_total${sub('read', 'source-jsonl', 1)}`), '1001')
  assert.equal(s.get(`sluice_step_late_records_total${sub('per-minute', 'window-aggregate', 0)}`), '3')
  assert.equal(s.get(`sluice_step_backpressure_seconds_total${sub('per-minute', 'window-aggregate', 0)}`), '1.5')
  assert.equal(s.get(`sluice_step_input_lag_seconds${sub('write', 'sink-jsonl', 1)}`), '6')
  assert.equal(s.get(`sluice_step_watermark_seconds${sub('read', 'source-jsonl', 0)}`), '1699999995')
  assert.equal(s.get(`sluice_step_state_bytes${sub('per-minute', 'window-aggregate', 1)}`), '4096')
  for (const m of STEP_METRICS) assert.match(text, new RegExp(`^# TYPE ${m.name} ${m.type}$`, 'm'))
  for (const m of JOB_METRICS) assert.match(text, new RegExp(`^# TYPE ${m.name} ${m.type}$`, 'm'))
  assert.equal(s.get('sluice_checkpoint_last_duration_seconds{pipeline="orders"}'), '0.025')
  assert.equal(s.get('sluice_checkpoint_last_alignment_seconds{pipeline="orders"}'), '0.005')
  assert.equal(s.get('sluice_checkpoint_failed_total{pipeline="orders"}'), '1')
  assert.equal(s.get('sluice_job_status{pipeline="orders",status="running"}'), '1')
})

test('counters are names ending in _total, units in the name, labels bounded to pipeline, step, kind, subtask (and partition, key group)', async () => {
  const text = await new PrometheusExposition().render(sampleRegistry().snapshot())
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    assert.equal(name.endsWith('_total'), type === 'counter', name)
    assert.doesNotMatch(name, /_ms$|milliseconds|_kb$/, name)
  }
  for (const [key] of series(text)) {
    const labels = [...key.matchAll(/(\w+)="/g)].map((m) => m[1])
    for (const l of labels) assert.ok(['pipeline', 'step', 'kind', 'subtask', 'status', 'slo', 'le', 'partition', 'key_group'].includes(l), `${key}: label ${l}`)
  }
})

test('unknown gauges are published as NaN and -Inf, not left out; a new job has rows of zeros', async () => {
  const r = new MetricsRegistry({ pipeline: 'p' })
  r.step('read', 'source-gen', 0)
  const s = series(await new PrometheusExposition().render(r.snapshot()))
  assert.equal(s.get('sluice_step_watermark_seconds{pipeline="p",step="read",kind="source-gen",subtask="0"}'), '-Inf')
  assert.match(s.get('sluice_step_input_lag_seconds{pipeline="p",step="read",kind="source-gen",subtask="0"}') ?? '', /^nan$/i) // prom-client writes 'Nan'; Prometheus reads any case
  assert.equal(s.get('sluice_step_input_records_total{pipeline="p",step="read",kind="source-gen",subtask="0"}'), '0')
  assert.match(s.get('sluice_checkpoint_last_duration_seconds{pipeline="p"}') ?? '', /^nan$/i)
})

test('each scrape reads the snapshot afresh: counters follow the registry, vanished status labels go', async () => {
  const r = new MetricsRegistry({ pipeline: 'p' })
  const m = r.step('read', 'source-gen', 0)
  const exposition = new PrometheusExposition()
  m.recordsIn = 10
  await exposition.render(r.snapshot())
  m.recordsIn = 25
  r.status = 'running'
  const s = series(await exposition.render(r.snapshot()))
  assert.equal(s.get('sluice_step_input_records_total{pipeline="p",step="read",kind="source-gen",subtask="0"}'), '25')
  assert.equal(s.get('sluice_job_status{pipeline="p",status="running"}'), '1')
  assert.equal(s.get('sluice_job_status{pipeline="p",status="starting"}'), undefined)
})

test('dead letters: the errors of a pipeline that dead-letters them; objectives published when declared', async () => {
  const snapshot = sampleRegistry().snapshot()
  const plain = series(await new PrometheusExposition().render(snapshot))
  assert.equal(plain.get(`sluice_step_dead_letters_total${sub('per-minute', 'window-aggregate', 0)}`), '0')
  const dlq = series(await new PrometheusExposition({ deadLetters: true, slo: { latency: { objective: 0.999, threshold: '500ms' }, errors: { objective: 0.99 } } }).render(snapshot))
  assert.equal(dlq.get(`sluice_step_dead_letters_total${sub('per-minute', 'window-aggregate', 0)}`), '2')
  assert.equal(dlq.get('sluice_slo_objective_ratio{pipeline="orders",slo="latency"}'), '0.999')
  assert.equal(dlq.get('sluice_slo_threshold_seconds{pipeline="orders",slo="latency"}'), '0.5')
  assert.equal(dlq.get('sluice_slo_objective_ratio{pipeline="orders",slo="errors"}'), '0.99')
  assert.equal(dlq.get('sluice_slo_threshold_seconds{pipeline="orders",slo="errors"}'), undefined)
})

test('sinks publish their end-to-end latency as histograms in seconds, buckets cumulative', async () => {
  const s = series(await new PrometheusExposition().render(sampleRegistry().snapshot()))
  const at = (name: string, le: string) => s.get(`${name}{pipeline="orders",step="write",kind="sink-jsonl",subtask="0",le="${le}"}`)
  assert.equal(at('sluice_sink_latency_seconds_bucket', '0.001'), '0')
  assert.equal(at('sluice_sink_latency_seconds_bucket', '0.005'), '15')
  assert.equal(at('sluice_sink_latency_seconds_bucket', '0.025'), '15')
  assert.equal(at('sluice_sink_latency_seconds_bucket', '0.05'), '20')
  assert.equal(at('sluice_sink_latency_seconds_bucket', '+Inf'), '20')
  assert.equal(s.get(`sluice_sink_latency_seconds_count${sub('write', 'sink-jsonl', 0)}`), '20')
  assert.equal(s.get(`sluice_sink_latency_seconds_sum${sub('write', 'sink-jsonl', 0)}`), '0.245')
  assert.equal(at('sluice_sink_event_time_latency_seconds_bucket', '60'), '0')
  assert.equal(at('sluice_sink_event_time_latency_seconds_bucket', '120'), '20')
  // Only sinks have them.
  assert.equal([...s.keys()].some((k) => k.startsWith('sluice_sink_latency_seconds_bucket{pipeline="orders",step="read"')), false)
})

test('sources that know it publish their consumer lag per partition', async () => {
  const s = series(await new PrometheusExposition().render(sampleRegistry().snapshot()))
  assert.equal(s.get('sluice_source_consumer_lag_records{pipeline="orders",step="read",kind="source-jsonl",subtask="1",partition="1"}'), '120')
  assert.equal(s.get('sluice_source_consumer_lag_records{pipeline="orders",step="read",kind="source-jsonl",subtask="1",partition="3"}'), '0')
  assert.equal([...s.keys()].filter((k) => k.startsWith('sluice_source_consumer_lag_records')).length, 4)
})
