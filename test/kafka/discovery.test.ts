// source.kafka({ pattern }) against the real broker: a topic created while the pipeline runs is found and read
// (at parallelism 1 and 2), and after a SIGKILL the restarted pipeline (which also finds a topic created while it
// was down) gives output that holds every record of every topic once.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import type { Row } from './fixtures/pass-through.ts'
import { bootstrap, broker, createTopic, producer, readAll, settled, topicName } from './support.ts'

const child = fileURLToPath(new URL('./fixtures/pass-through-child.ts', import.meta.url))

async function fill(topic: string, partitions: number, from: number, count: number): Promise<void> {
  await createTopic(topic, partitions)
  const p = await producer({ idempotent: true })
  try {
    const messages = Array.from({ length: count }, (_, i) => ({ partition: i % partitions, key: `k${i % 7}`, value: JSON.stringify({ n: from + i, k: `k${i % 7}` }) }))
    for (let i = 0; i < count; i += 500) await p.send({ topic, messages: messages.slice(i, i + 500) })
  } finally {
    await p.disconnect()
  }
}

async function output(topic: string): Promise<number[]> {
  return (await readAll<Row>(topic)).flat().map((r) => r.n).sort((a, b) => a - b)
}

async function until(what: string, done: () => Promise<boolean>, log: () => string): Promise<void> {
  const end = Date.now() + 240_000
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

for (const parallelism of [1, 2]) {
  test(`a topic created mid-run is read at parallelism ${parallelism}; killed with SIGKILL and restarted, every record once`, { skip: broker.skip, timeout: 900_000 }, async () => {
    const base = topicName('discover')
    const out = topicName('discover-out')
    const pattern = `^${base.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}-`
    await fill(`${base}-a`, 2, 0, 2000)
    await createTopic(out, 2)
    const dir = await mkdtemp(join(tmpdir(), 'sluice-discover-'))
    try {
      const args = [child, bootstrap(), base, out, dir, String(parallelism), `pattern=${pattern}`]
      const first = spawn(process.execPath, [...args, 'bounded=false', 'discovery=200ms'], { stdio: ['ignore', 'ignore', 'pipe'] })
      let log = ''
      first.stderr.on('data', (d) => (log += d))
      const exited = new Promise((resolve) => first.on('exit', resolve))
      try {
        await until('output of the first topic', async () => (await output(out)).length > 0, () => log)
        await fill(`${base}-b`, 3, 10_000, 1500)
        await until('output of the topic created mid-run', async () => (await output(out)).some((n) => n >= 20_000), () => log)
      } finally {
        first.kill('SIGKILL')
        await exited
      }
      await fill(`${base}-c`, 1, 30_000, 300)
      const again = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [...args, 'bounded=true'], { stdio: ['ignore', 'ignore', 'pipe'] })
        let stderr = ''
        p.stderr.on('data', (d) => (stderr += d))
        p.on('exit', (code) => resolve({ code, stderr }))
      })
      assert.equal(again.code, 0, again.stderr)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    const expected = [...Array.from({ length: 2000 }, (_, i) => i), ...Array.from({ length: 1500 }, (_, i) => 10_000 + i), ...Array.from({ length: 300 }, (_, i) => 30_000 + i)].map((n) => n * 2)
    assert.deepEqual(await settled(() => output(out), expected), expected)
  })
}
