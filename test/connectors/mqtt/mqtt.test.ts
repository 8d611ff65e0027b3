import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import mqttLib from 'mqtt'
import { committedParts } from '../../../src/connectors/files/part-files.ts'
import { pipeline, sink, source, start } from '../../../src/index.ts'
import { prng } from '../../checkpoint/crash.ts'
import { serviceOrSkip } from '../../support/services.ts'
import { build as buildParallel } from './fixtures/mqtt-parallel.ts'

const broker = serviceOrSkip('mosquitto')
const url = () => String(broker.info!.url)
const unique = () => `${process.pid}-${Math.random().toString(36).slice(2, 8)}`

/** Creates the persistent session of `clientId` with its subscription, so the broker keeps messages for it from now on. */
async function session(clientId: string, topic: string): Promise<void> {
  const c = await mqttLib.connectAsync(url(), { clientId, clean: false, protocolVersion: 4 })
  await c.subscribeAsync(topic, { qos: 1 })
  await c.endAsync()
}

async function publisher() {
  return mqttLib.connectAsync(url(), { clientId: `pub-${unique()}`, protocolVersion: 4 })
}

async function output(out: string): Promise<number[]> {
  if (!existsSync(out)) return []
  const ids: number[] = []
  for (const f of await committedParts(out)) for (const l of (await readFile(f, 'utf8')).split('\n')) if (l !== '') ids.push((JSON.parse(l) as { id: number }).id)
  return ids
}

test('sink.mqtt publishes every record with QoS 1 and a topic per record', { skip: broker.skip }, async () => {
  const run = unique()
  const sub = await mqttLib.connectAsync(url(), { clientId: `sub-${run}`, protocolVersion: 4 })
  const got: { topic: string; n: number }[] = []
  sub.on('message', (topic, payload) => got.push({ topic, n: (JSON.parse(payload.toString()) as { n: number }).n }))
  await sub.subscribeAsync(`sluice-test/${run}/#`, { qos: 1 })
  try {
    const p = pipeline('mqtt-sink')
    p.from(source.collection(Array.from({ length: 500 }, (_, n) => ({ n })))).to(sink.mqtt<{ n: number }>({ url: url(), topic: (r) => `sluice-test/${run}/${r.n % 2 === 0 ? 'even' : 'odd'}` }))
    await start(p).done
    for (let i = 0; i < 100 && got.length < 500; i++) await sleep(50)
    assert.equal(got.length, 500)
    assert.deepEqual(got.map((m) => m.n).sort((a, b) => a - b), Array.from({ length: 500 }, (_, n) => n))
    assert.ok(got.every((m) => m.topic.endsWith(m.n % 2 === 0 ? '/even' : '/odd')))
  } finally {
    await sub.endAsync()
  }
})

test('source.mqtt: messages published while the pipeline is down are read when it starts; a stop and a restart read each once', { skip: broker.skip }, async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-mqtt-'))
  const clientId = `sluice-test-${unique()}`
  const topic = `sluice-test/${clientId}`
  const out = join(base, 'out')
  const chk = join(base, 'chk')
  const run = async (until: number) => {
    const p = pipeline('mqtt-source', { onError: 'error-output' })
    p.from(source.mqtt<{ id: number }>({ url: url(), clientId, topics: `${topic}/#`, logDir: join(base, 'log') })).to(sink.jsonl(out))
    p.errors().map((e) => ({ step: e.step })).to(sink.jsonl(join(base, 'errors')))
    const job = start(p, { checkpoint: { dir: chk, intervalMs: 50 } })
    for (let i = 0; i < 400 && (await output(out)).length < until; i++) await sleep(50)
    await job.stop()
    await job.done
  }
  try {
    await session(clientId, `${topic}/#`)
    const pub = await publisher()
    for (let id = 0; id < 200; id++) await pub.publishAsync(`${topic}/${id % 3}`, JSON.stringify({ id }), { qos: 1 })
    await run(200)
    for (let id = 200; id < 300; id++) await pub.publishAsync(`${topic}/x`, JSON.stringify({ id }), { qos: 1 })
    await pub.publishAsync(`${topic}/x`, 'not json', { qos: 1 })
    await pub.endAsync()
    await run(300)
    const ids = await output(out)
    assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i))
    const errors = (await Promise.all((await committedParts(join(base, 'errors'))).map((f) => readFile(f, 'utf8')))).join('').split('\n').filter((l) => l !== '')
    assert.equal(errors.length, 1, 'the payload that is not JSON went to the error output')
  } finally {
    await rm(base, { recursive: true, force: true })
  }
})

test('source.mqtt at parallelism 2: one session on subtask 0, every message once, the steps after the key on both subtasks', { skip: broker.skip }, async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-mqtt-p2-'))
  const clientId = `sluice-p2-${unique()}`
  const params = { url: url(), clientId, topic: `sluice-test/${clientId}/#`, log: join(base, 'log'), out: join(base, 'out') }
  const module = new URL('./fixtures/mqtt-parallel.ts', import.meta.url).href
  try {
    await session(clientId, params.topic)
    const pub = await publisher()
    for (let id = 0; id < 300; id++) await pub.publishAsync(`sluice-test/${clientId}/${id % 3}`, JSON.stringify({ id }), { qos: 1 })
    await pub.endAsync()
    const job = start(buildParallel(params), { parallelism: 2, module, params, checkpoint: { dir: join(base, 'chk'), intervalMs: 50 } })
    for (let i = 0; i < 400 && (await output(params.out)).length < 300; i++) await sleep(50)
    await job.stop()
    await job.done
    const ids = await output(params.out)
    assert.deepEqual(ids.sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i))
    const subtasks = new Set((await committedParts(params.out)).map((f) => basename(f).split('-')[1]))
    assert.deepEqual([...subtasks].sort(), ['0', '1'], 'both subtasks of the sink wrote records')
  } finally {
    await rm(base, { recursive: true, force: true })
  }
})

const child = fileURLToPath(new URL('./fixtures/mqtt-child.ts', import.meta.url))

test('source.mqtt, SIGKILLed while a device publishes: every message the broker accepted is in the output exactly once', { skip: broker.skip }, async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-mqtt-crash-'))
  const clientId = `sluice-crash-${unique()}`
  const args = [url(), clientId, join(base, 'log'), join(base, 'out'), join(base, 'chk')]
  const rnd = prng(12)
  let next = 0
  try {
    await session(clientId, 'sluice-test/crash/#')
    const pub = await publisher()
    const topic = `sluice-test/crash/${clientId}`
    for (let run = 0; run < 4; run++) {
      const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      p.stderr!.on('data', (d) => (stderr += d))
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => p.on('close', (code, signal) => resolve({ code, signal })))
      const last = run === 3
      const messages = last ? 300 : 100 + Math.floor(rnd() * 400)
      const killAt = Math.floor(rnd() * messages)
      for (let m = 0; m < messages; m++) {
        await pub.publishAsync(topic, JSON.stringify({ id: next++ }), { qos: 1 })
        if (!last && m === killAt) p.kill('SIGKILL')
      }
      if (!last) {
        p.kill('SIGKILL')
        assert.equal((await exited).signal, 'SIGKILL')
        continue
      }
      for (let i = 0; i < 600 && (await output(args[3])).length < next; i++) await sleep(100)
      p.kill('SIGTERM')
      const end = await exited
      assert.equal(end.code, 0, stderr)
    }
    await pub.endAsync()
    const got = await output(args[3])
    const seen = new Set<number>()
    for (const id of got) {
      assert.ok(!seen.has(id), `message ${id} is in the output twice`)
      seen.add(id)
    }
    for (let id = 0; id < next; id++) assert.ok(seen.has(id), `message ${id} is missing`)
  } finally {
    await rm(base, { recursive: true, force: true })
  }
})
