// Runs the example as its README says against the mosquitto test service: readings published while the job is
// down are read once it starts, and the hot ones come back as alerts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { serviceOrSkip } from '../../test/support/services.ts'
import type { Reading } from './pipeline.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const svc = serviceOrSkip('mosquitto')

test('mqtt-alerts: readings above 30 °C come back as alerts', { skip: svc.skip }, async () => {
  const url = String(svc.info!.url)
  const base = await mkdtemp(join(tmpdir(), 'sluice-mqtt-alerts-'))
  // The job's session, started fresh, so the broker keeps what is published before the job runs.
  const session = await mqtt.connectAsync(url, { clientId: 'sluice-mqtt-alerts', clean: true, protocolVersion: 4 })
  await session.endAsync()
  const setup = await mqtt.connectAsync(url, { clientId: 'sluice-mqtt-alerts', clean: false, protocolVersion: 4 })
  await setup.subscribeAsync('sensors/+/temp', { qos: 1 })
  await setup.endAsync()
  const watcher = await mqtt.connectAsync(url, { protocolVersion: 4 })
  const alerts: { topic: string; celsius: number }[] = []
  watcher.on('message', (topic, payload) => alerts.push({ topic, celsius: (JSON.parse(payload.toString()) as Reading).celsius }))
  await watcher.subscribeAsync('alerts/#', { qos: 1 })
  const device = await mqtt.connectAsync(url, { protocolVersion: 4 })
  const readings: Reading[] = Array.from({ length: 40 }, (_, i) => ({ sensor: `s${i % 4}`, celsius: 20 + (i % 15), ts: 1_700_000_000_000 + i * 1000 }))
  for (const r of readings) await device.publishAsync(`sensors/${r.sensor}/temp`, JSON.stringify(r), { qos: 1 })
  const job = spawn(process.execPath, ['bin/sluice.js', 'run', 'examples/mqtt-alerts/pipeline.ts', '--checkpoint-dir', join(base, 'chk'), '--quiet'], { cwd: root, env: { ...process.env, MQTT_URL: url, MQTT_LOG_DIR: join(base, 'log') }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  job.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => job.on('close', (code) => resolve(code)))
  try {
    const want = readings.filter((r) => r.celsius > 30)
    for (let i = 0; i < 600 && alerts.length < want.length; i++) await sleep(100)
    assert.deepEqual(alerts.map((a) => `${a.topic} ${a.celsius}`).sort(), want.map((r) => `alerts/${r.sensor} ${r.celsius}`).sort(), stderr)
  } finally {
    job.kill('SIGTERM')
    await exited
    await Promise.all([watcher.endAsync(), device.endAsync()])
    await rm(base, { recursive: true, force: true })
  }
})
