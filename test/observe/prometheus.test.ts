// The exporter against the real Prometheus tools: promtool lints what /metrics serves, and a Prometheus server
// (npm run services -- prometheus) scrapes a job's /metrics, where a PromQL rate() gives the job's rate.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { MetricsRegistry } from '../../src/observe/metrics/registry.ts'
import { serveMetrics } from '../../src/observe/prometheus/server.ts'
import { sampleRegistry } from '../../src/observe/prometheus/test-registry.ts'
import { serviceOrSkip } from '../support/services.ts'

const prometheus = serviceOrSkip('prometheus')

test('promtool check metrics accepts /metrics, unknown gauges included', { skip: prometheus.skip }, async (t) => {
  const promtool = String(prometheus.info!.promtool)
  for (const registry of [sampleRegistry(), new MetricsRegistry({ pipeline: 'fresh' })]) {
    registry.step('read', 'source-gen', 0)
    const server = await serveMetrics({ port: 0, snapshot: () => registry.snapshot(), deadLetters: true, slo: { errors: { objective: 0.999 }, freshness: { objective: 0.99, threshold: '2m' } } })
    t.after(() => server.close())
    const text = await (await fetch(`${server.url}/metrics`)).text()
    // promtool exits non-zero and names the problem on any lint or parse error.
    const out = execFileSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' })
    assert.equal(out.trim(), '')
  }
})

/** Queries Prometheus's HTTP API; the vector's values. */
async function query(url: string, promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } }
  assert.equal(body.status, 'success')
  return body.data.result
}

test('Prometheus scrapes a running job and rate() gives its rate', { skip: prometheus.skip, timeout: 300_000 }, async (t) => {
  const { url, targetsDir } = prometheus.info! as { url: string; targetsDir: string }
  // A job reading 400 records a second on each of two subtasks: its counters follow the wall clock, so the rate
  // Prometheus sees does not depend on how fast this machine is.
  const pipeline = `scrape-${process.pid}-${Date.now()}`
  const registry = new MetricsRegistry({ pipeline })
  registry.status = 'running'
  const started = Date.now()
  const subtasks = [registry.step('read', 'source-gen', 0), registry.step('read', 'source-gen', 1)]
  const snapshot = () => {
    for (const m of subtasks) m.recordsIn = Math.floor(((Date.now() - started) / 1000) * 400)
    return registry.snapshot()
  }
  const server = await serveMetrics({ port: 0, snapshot })
  const target = join(targetsDir, `${pipeline}.json`)
  writeFileSync(target, JSON.stringify([{ targets: [`127.0.0.1:${server.port}`], labels: { test: 'rate' } }]))
  t.after(async () => {
    rmSync(target, { force: true })
    await server.close()
  })

  const promql = `sum(rate(sluice_step_input_records_total{pipeline="${pipeline}",kind=~"source-.*"}[6s]))`
  const deadline = Date.now() + 60_000
  let samples = 0
  let rate = NaN
  // rate() extrapolates to the ends of its window only when samples cover it: wait until the series is older
  // than the window (9 scrapes in 12 s, one a second) before asking.
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000))
    const n = await query(url, `count_over_time(sluice_step_input_records_total{pipeline="${pipeline}",subtask="0"}[12s])`)
    samples = n.length === 0 ? 0 : Number(n[0].value[1])
    if (samples >= 9) {
      rate = Number((await query(url, promql))[0].value[1])
      break
    }
  }
  assert.ok(samples >= 9, `Prometheus scraped the job ${samples} times in 60 s`)
  assert.ok(Math.abs(rate - 800) / 800 < 0.1, `rate() is ${rate}, expected 800 ± 10%`)
  const up = await query(url, `up{pipeline="",test="rate",instance="127.0.0.1:${server.port}"}`)
  assert.equal(up[0]?.value[1], '1')
})
