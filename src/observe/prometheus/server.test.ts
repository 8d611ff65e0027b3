import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SluiceError } from '../../core/errors.ts'
import { MetricsRegistry } from '../metrics/registry.ts'
import { serveMetrics } from './server.ts'
import { sampleRegistry } from './test-registry.ts'

test('/metrics, /healthz and /readyz on one loopback server', async (t) => {
  const registry = sampleRegistry()
  const server = await serveMetrics({ port: 0, snapshot: () => registry.snapshot() })
  t.after(() => server.close())
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const metrics = await fetch(`${server.url}/metrics`)
  assert.equal(metrics.status, 200)
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  assert.match(await metrics.text(), /^sluice_step_input_records_total\{pipeline="orders",step="read",kind="source-jsonl",subtask="0"\} 1000$/m)
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
  const ready = await fetch(`${server.url}/readyz`)
  assert.equal(ready.status, 200)
  assert.equal(await ready.text(), 'ok\n')
  assert.equal((await fetch(`${server.url}/nothing`)).status, 404)
  assert.equal((await fetch(`${server.url}/metrics`, { method: 'POST' })).status, 405)
})

test('/readyz fails while the job starts, and when checkpoints fail in a row beyond the threshold', async (t) => {
  const registry = new MetricsRegistry({ pipeline: 'p' })
  const server = await serveMetrics({ port: 0, snapshot: () => registry.snapshot(), maxCheckpointFailures: 2 })
  t.after(() => server.close())
  const ready = async () => {
    const r = await fetch(`${server.url}/readyz`)
    return { status: r.status, body: await r.text() }
  }
  assert.deepEqual(await ready(), { status: 503, body: "status is 'starting'\n" })
  registry.status = 'running'
  assert.equal((await ready()).status, 200)
  registry.checkpoints.failed = 3
  assert.deepEqual(await ready(), { status: 503, body: '3 checkpoints failed in a row (more than 2)\n' })
  registry.checkpointCompleted({ id: 1, bytes: 1, syncMs: 1, asyncMs: 1, alignmentMs: 0 })
  assert.equal((await ready()).status, 200, 'a completed checkpoint ends the run of failures')
  registry.checkpoints.failed = 5
  assert.equal((await ready()).status, 200, 'two failures since are within the threshold')
  registry.status = 'failed'
  assert.equal((await fetch(`${server.url}/healthz`)).status, 503)
})

test('a port in use is SLUICE_METRICS_PORT_UNAVAILABLE', async (t) => {
  const registry = new MetricsRegistry({ pipeline: 'p' })
  const first = await serveMetrics({ port: 0, snapshot: () => registry.snapshot() })
  t.after(() => first.close())
  await assert.rejects(serveMetrics({ port: first.port, snapshot: () => registry.snapshot() }), (e) => e instanceof SluiceError && e.code === 'SLUICE_METRICS_PORT_UNAVAILABLE')
})
