// Dead letters in a Kafka topic (deadLetter.kafka) on the real broker: the writer's two-phase commit, a pipeline
// run straight through and killed with SIGKILL at each point of a checkpoint's commit (every letter once, read
// with read_committed), and `sluice dlq` listing, showing and redriving them from the topic.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { run } from '../../src/index.ts'
import { main, commands } from '../../src/cli/main.ts'
import type { CliContext } from '../../src/cli/command.ts'
import { KafkaDeadLetterWriter } from '../../src/connectors/kafka/dead-letters.ts'
import { kafkaLetterStore } from '../../src/connectors/kafka/letter-store.ts'
import type { DeadLetter } from '../../src/dlq/record.ts'
import { build } from './fixtures/dead-letters.ts'
import type { Row } from './fixtures/pass-through.ts'
import { bootstrap, broker, createTopic, producer, readAll, settled, topicName } from './support.ts'

const COUNT = 3000
const PARTITIONS = 3

function letter(n: number): DeadLetter {
  return { pipeline: 'p', step: 'map-1', reason: 'user-function', error: { message: 'failed', name: 'Error' }, position: `in:${n}`, attempts: 1, time: 1000 + n, record: { n }, recordFormat: 'json' } as DeadLetter
}

/** The `n` of every committed letter of `topic`, in offset order. */
async function letters(topic: string): Promise<number[]> {
  const store = kafkaLetterStore({ brokers: bootstrap() })
  try {
    const out: number[] = []
    for await (const s of store.scan(topic)) out.push((s.letter.record as { n: number }).n)
    return out
  } finally {
    await store.close()
  }
}

test('Kafka dead-letter writer: letters visible once their checkpoint commits; a restart commits the restored handle and aborts the rest', { skip: broker.skip }, async () => {
  const topic = `${topicName('dlq-writer')}.dlq`
  const open = () => KafkaDeadLetterWriter.open({ brokers: bootstrap(), topic, pipeline: 'p', checkpointing: true, transactionalIdPrefix: topic, transactionTimeout: 60_000 })
  const w1 = await open()
  w1.add(letter(1))
  w1.add(letter(2))
  const h1 = await w1.preCommit(1)
  assert.deepEqual(await letters(topic), [])
  await w1.commit(1, h1)
  assert.deepEqual(await settled(() => letters(topic), [1, 2]), [1, 2])
  w1.add(letter(3))
  const h2 = await w1.preCommit(2)
  w1.add(letter(4))
  await w1.preCommit(3) // its checkpoint never completes
  // w1 "crashes": a new writer restores checkpoint 2, whose commit never ran.
  const w2 = await open()
  await w2.recover([{ subtask: 0, checkpointId: 2, handle: h2 }], 2)
  assert.deepEqual(await settled(() => letters(topic), [1, 2, 3]), [1, 2, 3])
  assert.equal(await w2.committedAfter(1), 1)
  w2.add(letter(5))
  await w2.close(true)
  assert.deepEqual(await settled(() => letters(topic), [1, 2, 3, 5]), [1, 2, 3, 5])
  await w1.close(false)
  assert.deepEqual(await letters(topic), [1, 2, 3, 5])
})

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

const failing = Array.from({ length: COUNT / 5 }, (_, i) => i * 5)
const passing = Array.from({ length: COUNT }, (_, n) => n).filter((n) => n % 5 !== 0).map((n) => n * 2)

async function check(output: string, dlq: string): Promise<void> {
  assert.deepEqual(await settled(async () => (await readAll<Row>(output)).flat().map((r) => r.n).sort((a, b) => a - b), passing), passing)
  assert.deepEqual(await settled(async () => (await letters(dlq)).sort((a, b) => a - b), failing), failing)
}

async function withDir<R>(f: (dir: string) => Promise<R>): Promise<R> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-kafka-dlq-'))
  try {
    return await f(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function sluice(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (c: Buffer) => (out += c.toString()))
  stderr.on('data', (c: Buffer) => (err += c.toString()))
  const code = await main(argv, { stdout, stderr, cwd: process.cwd(), env: {}, commands } as unknown as CliContext)
  return { code, out, err }
}

test('a pipeline with deadLetter.kafka: every failed record once in the topic; sluice dlq lists, shows and redrives them once per target', { skip: broker.skip }, async () => {
  const input = topicName('dlq-in')
  const output = topicName('dlq-out')
  const dlq = `${topicName('dlq-letters')}.dlq`
  await fill(input)
  await createTopic(output, 2)
  await withDir(async (dir) => {
    const summary = await run(build(bootstrap(), input, output, dlq), { checkpoint: { dir, intervalMs: 100 } })
    assert.equal(summary.status, 'finished')
    await check(output, dlq)

    const at = `kafka://${bootstrap()}`
    const list = await sluice('dlq', 'list', at, '--topic', dlq, '--json')
    assert.equal(list.code, 0, list.err)
    assert.deepEqual(JSON.parse(list.out), { topic: dlq, letters: COUNT / 5, pending: 0, byStep: [{ step: 'map-1', reason: 'user-function', count: COUNT / 5 }] })
    const show = await sluice('dlq', 'show', at, '--topic', dlq, '-n', '2')
    assert.equal(show.code, 0, show.err)
    const shown = show.out.trim().split('\n').map((l) => JSON.parse(l) as DeadLetter & { offset: number })
    assert.equal(shown.length, 2)
    assert.equal(shown[0].reason, 'user-function')
    assert.match(String(shown[0].position), new RegExp(`^${input}/\\d:\\d+$`))

    const file = join(dir, 'retry.jsonl')
    const first = await sluice('dlq', 'redrive', at, '--topic', dlq, '--to', file, '--json')
    assert.equal(first.code, 0, first.err)
    assert.equal(JSON.parse(first.out).redriven, COUNT / 5)
    const again = await sluice('dlq', 'redrive', at, '--topic', dlq, '--to', file, '--json')
    assert.equal(JSON.parse(again.out).redriven, 0)
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as Row).n)
    assert.deepEqual(lines.sort((a, b) => a - b), failing)

    const retry = topicName('dlq-retry')
    const toTopic = await sluice('dlq', 'redrive', at, '--topic', dlq, '--to', `kafka:${retry}`, '--json')
    assert.equal(toTopic.code, 0, toTopic.err)
    assert.equal(JSON.parse(toTopic.out).redriven, COUNT / 5)
    assert.deepEqual((await readAll<Row>(retry)).flat().map((r) => r.n).sort((a, b) => a - b), failing)
    const wrong = await sluice('dlq', 'redrive', at, '--topic', dlq, '--to', `log:${retry}`)
    assert.notEqual(wrong.code, 0)
  })
})

const child = fileURLToPath(new URL('./fixtures/dead-letters-child.ts', import.meta.url))

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

// `sink-commit` and the two-phase points are passed by the sink and the dead-letter writer alike. At parallelism
// 2 the letters of both threads meet in the writer on thread 0.
const crashes: { failpoint: string; before: number; after: number }[] = [
  { failpoint: 'two-phase-pre-commit:3', before: 1, after: 1 },
  { failpoint: 'checkpoint-before-commit:2', before: 1, after: 1 },
  { failpoint: 'sink-commit:3', before: 1, after: 1 },
  { failpoint: 'checkpoint-after-commit:2', before: 1, after: 1 },
  { failpoint: 'checkpoint-before-commit:3', before: 2, after: 2 },
  { failpoint: 'two-phase-pre-commit:3', before: 2, after: 1 },
]
for (const { failpoint, before, after } of crashes) {
  test(`deadLetter.kafka, killed at ${failpoint} at parallelism ${before} and restarted at ${after}: every letter and every output record once`, { skip: broker.skip }, async () => {
    const input = topicName('dlq-crash-in')
    const output = topicName('dlq-crash-out')
    const dlq = `${topicName('dlq-crash')}.dlq`
    await fill(input)
    await createTopic(output, 2)
    await withDir(async (dir) => {
      const args = [bootstrap(), input, output, dlq, dir]
      const killed = await runChild([...args, String(before)], failpoint)
      assert.equal(killed.signal, 'SIGKILL', `not killed at ${failpoint}: ${killed.stderr}`)
      const again = await runChild([...args, String(after)])
      assert.equal(again.code, 0, again.stderr)
    })
    await check(output, dlq)
  })
}
