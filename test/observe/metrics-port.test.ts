// `sluice run --metrics-port`: a running pipeline serves its live metrics and probes, and a real Prometheus
// (npm run services -- prometheus) that scrapes it answers rate() with the pipeline's rate.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { bin, root } from '../cli/sluice.ts'
import { serviceOrSkip } from '../support/services.ts'

const prometheus = serviceOrSkip('prometheus')
const RATE = 400

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(url)
    return { status: r.status, body: await r.text() }
  } catch {
    return { status: 0, body: '' }
  }
}

/** Polls `check` once a second until it returns a value, for at most `ms`. */
async function until<T>(ms: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = await check()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 1_000))
  }
  return undefined
}

let child: ChildProcess
let port: number
let stderr = ''
let exited: Promise<number | null>

before(async () => {
  port = await freePort()
  rmSync(join(root, 'examples/monitored-orders/out'), { recursive: true, force: true })
  child = spawn(process.execPath, [bin, 'run', 'examples/monitored-orders/pipeline.ts', '--no-check', '--metrics-port', String(port), '--param', `rate=${RATE}`], { cwd: root, env: { ...process.env, SLUICE_DEBUG: '' } })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  child.stdout!.resume()
  exited = new Promise((resolve) => child.on('close', (code) => resolve(code)))
})

after(async () => {
  if (child.exitCode === null) child.kill('SIGKILL')
  await exited
})

test('a running pipeline serves /metrics, /healthz and /readyz on --metrics-port', { timeout: 300_000 }, async () => {
  const url = `http://127.0.0.1:${port}`
  const ready = await until(60_000, async () => ((await get(`${url}/readyz`)).status === 200 ? true : undefined))
  assert.equal(ready, true, `never ready: ${stderr}`)
  assert.match(stderr, new RegExp(`metrics on http://127\\.0\\.0\\.1:${port}/metrics`))
  assert.equal((await get(`${url}/healthz`)).status, 200)
  const read = (text: string) => Number(/^sluice_step_input_records_total\{pipeline="orders",step="source-generator-1",kind="source-generator",subtask="0"\} (\d+)$/m.exec(text)?.[1])
  const first = read((await get(`${url}/metrics`)).body)
  const later = await until(30_000, async () => {
    const n = read((await get(`${url}/metrics`)).body)
    return n > first ? n : undefined
  })
  assert.ok(later !== undefined && later > first, 'the source counter grows while the job runs')
  const text = (await get(`${url}/metrics`)).body
  assert.match(text, /^sluice_job_status\{pipeline="orders",status="running"\} 1$/m)
  assert.match(text, /^sluice_slo_objective_ratio\{pipeline="orders",slo="freshness"\} 0\.99$/m)
  assert.match(text, /^# TYPE sluice_step_dead_letters_total counter$/m)
  if (prometheus.info !== undefined) execFileSync(String(prometheus.info.promtool), ['check', 'metrics'], { input: text, encoding: 'utf8' })
})

test('Prometheus scrapes the running pipeline: rate() of records read is the source rate', { skip: prometheus.skip, timeout: 300_000 }, async (t) => {
  const { url, targetsDir } = prometheus.info! as { url: string; targetsDir: string }
  const target = join(targetsDir, `sluice-run-${process.pid}-${port}.json`)
  writeFileSync(target, JSON.stringify([{ targets: [`127.0.0.1:${port}`] }]))
  t.after(() => rmSync(target, { force: true }))
  const q = async (promql: string) => {
    const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as { data: { result: { value: [number, string] }[] } }
    return body.data.result
  }
  const instance = `instance="127.0.0.1:${port}"`
  // rate() extrapolates to the ends of its window only once samples cover it: wait for 15 scrapes in 16 s.
  const covered = await until(60_000, async () => {
    const r = await q(`count_over_time(sluice_step_input_records_total{${instance},kind="source-generator"}[16s])`)
    return r.length > 0 && Number(r[0].value[1]) >= 15 ? true : undefined
  })
  assert.equal(covered, true, 'Prometheus scraped the job once a second')
  const rate = Number((await q(`sum(rate(sluice_step_input_records_total{${instance},kind="source-generator"}[10s]))`))[0].value[1])
  assert.ok(Math.abs(rate - RATE) / RATE < 0.15, `rate() is ${rate}, the source reads ${RATE} a second (±15%)`)
})

test('Ctrl-C stops the job and its metrics server', { timeout: 300_000 }, async () => {
  child.kill('SIGINT')
  assert.equal(await exited, 130)
  assert.equal((await get(`http://127.0.0.1:${port}/healthz`)).status, 0, 'nothing listens any more')
})
