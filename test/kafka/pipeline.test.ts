// Pipelines on the real broker: Kafka to Kafka with checkpoints, straight through and killed with SIGKILL at
// each point of a checkpoint's commit; the output read with read_committed holds every record once, and the
// source's group sees its offsets once checkpoints complete.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { run } from '../../src/index.ts'
import { createClient, createCluster } from '../../src/connectors/kafka/client.ts'
import { groupOffsets } from '../../src/connectors/kafka/groups.ts'
import { build, type Row } from './fixtures/pass-through.ts'
import { bootstrap, broker, createTopic, producer, readAll, settled, topicName } from './support.ts'

const COUNT = 6000
const PARTITIONS = 3

async function fill(topic: string): Promise<void> {
  await createTopic(topic, PARTITIONS)
  const p = await producer({ idempotent: true })
  try {
    for (let from = 0; from < COUNT; from += 500) {
      const messages = Array.from({ length: 500 }, (_, i) => ({ partition: (from + i) % PARTITIONS, key: `k${(from + i) % 7}`, value: JSON.stringify({ n: from + i, k: `k${(from + i) % 7}` }) }))
      await p.send({ topic, messages })
    }
  } finally {
    await p.disconnect()
  }
}

function expected(): number[] {
  return Array.from({ length: COUNT }, (_, i) => i * 2)
}

async function output(topic: string): Promise<number[]> {
  return (await readAll<Row>(topic)).flat().map((r) => r.n).sort((a, b) => a - b)
}

async function withDir<R>(f: (dir: string) => Promise<R>): Promise<R> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-kafka-'))
  try {
    return await f(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('Kafka to Kafka with checkpoints: every record once, and the group holds the end offsets', { skip: broker.skip }, async () => {
  const input = topicName('pipe-in')
  const out = topicName('pipe-out')
  await fill(input)
  await createTopic(out, 2)
  await withDir(async (dir) => {
    const summary = await run(build(bootstrap(), input, out), { checkpoint: { dir, intervalMs: 100 } })
    assert.equal(summary.status, 'finished')
  })
  assert.deepEqual(await settled(() => output(out), expected()), expected())
  const cluster = createCluster(createClient({ brokers: bootstrap() }))
  await cluster.connect()
  try {
    const parts = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: input, partition }))
    const committed = await groupOffsets(cluster, `${input}-group`, parts)
    assert.deepEqual(parts.map((p) => committed.get(p)), [2000, 2000, 2000])
  } finally {
    await cluster.disconnect()
  }
})

const child = fileURLToPath(new URL('./fixtures/pass-through-child.ts', import.meta.url))

function runChild(args: string[], failpoint?: string): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env }
    delete env.SLUICE_FAILPOINT
    if (failpoint !== undefined) env.SLUICE_FAILPOINT = failpoint
    const p = spawn(process.execPath, [child, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (d) => (stderr += d))
    const guard = setTimeout(() => p.kill('SIGKILL'), 240_000)
    p.on('error', reject)
    p.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, stderr })
    })
  })
}

const runs: { failpoint: string; before: number; after: number }[] = [
  { failpoint: 'two-phase-pre-commit:2', before: 1, after: 1 },
  { failpoint: 'checkpoint-before-commit:2', before: 1, after: 1 },
  { failpoint: 'two-phase-commit:2', before: 1, after: 1 },
  { failpoint: 'checkpoint-after-commit:2', before: 1, after: 1 },
  // Source partitions and sink transactions move between subtasks (worker threads) on restore.
  { failpoint: 'checkpoint-before-commit:3', before: 1, after: 2 },
  { failpoint: 'two-phase-pre-commit:2', before: 2, after: 1 },
]

for (const { failpoint, before, after } of runs) {
  test(`killed at ${failpoint} at parallelism ${before}, restarted at ${after}: every record once in the output`, { skip: broker.skip }, async () => {
    const input = topicName('crash-in')
    const out = topicName('crash-out')
    await fill(input)
    await createTopic(out, 2)
    await withDir(async (dir) => {
      const args = [bootstrap(), input, out, dir]
      const killed = await runChild([...args, String(before)], failpoint)
      assert.equal(killed.signal, 'SIGKILL', `not killed at ${failpoint}: ${killed.stderr}`)
      const again = await runChild([...args, String(after)])
      assert.equal(again.code, 0, again.stderr)
    })
    assert.deepEqual(await settled(() => output(out), expected()), expected())
  })
}
