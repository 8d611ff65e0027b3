// Dead letters to a Kafka topic under `sluice worker --runner kafka`: two workers, thread 0 (which writes the
// letters of every thread) killed with SIGKILL mid-run; the other finishes the job, and the topic holds every
// letter once, the output every record once (both read with read_committed).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { kafkaLetterStore } from '../../src/connectors/kafka/letter-store.ts'
import type { Row } from './fixtures/pass-through.ts'
import { until, type Worker } from './runner-support.ts'
import { bootstrap, broker, createTopic, producer, readAll, settled, topicName } from './support.ts'

const COUNT = 3000
const fixture = fileURLToPath(new URL('./fixtures/dead-letters.ts', import.meta.url))
const cli = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url))

function worker(group: string, dir: string, params: Record<string, string>): Worker {
  const args = [cli, 'worker', fixture, '--runner', 'kafka', '--bootstrap', bootstrap(), '--group', group, '--checkpoint-dir', dir, '--checkpoint-interval', '300ms', '--session-timeout', '6s', ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`])]
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const w: Worker = { proc, log: '', exited: new Promise((resolve) => proc.on('exit', (code) => resolve(code))) }
  proc.stderr!.on('data', (d) => (w.log += d))
  return w
}

async function letters(topic: string): Promise<number[]> {
  const store = kafkaLetterStore({ brokers: bootstrap() })
  try {
    const out: number[] = []
    for await (const s of store.scan(topic)) out.push((s.letter.record as { n: number }).n)
    return out.sort((a, b) => a - b)
  } finally {
    await store.close()
  }
}

test('deadLetter.kafka under the Kafka runner, thread 0 killed mid-run: every letter and every output record once', { skip: broker.skip, timeout: 900_000 }, async () => {
  const input = topicName('runner-dlq-in')
  const output = topicName('runner-dlq-out')
  const dlq = `${topicName('runner-dlq')}.dlq`
  const group = topicName('runner-dlq-job')
  await createTopic(input, 3)
  await createTopic(output, 2)
  const p = await producer({ idempotent: true })
  try {
    const messages = Array.from({ length: COUNT }, (_, n) => ({ partition: n % 3, key: `k${n % 7}`, value: JSON.stringify({ n, k: `k${n % 7}` }) }))
    for (let i = 0; i < COUNT; i += 500) await p.send({ topic: input, messages: messages.slice(i, i + 500) })
  } finally {
    await p.disconnect()
  }
  const dir = await mkdtemp(join(tmpdir(), 'sluice-runner-dlq-'))
  const params = { brokers: bootstrap(), input, output, dlq, pace: '100' }
  const workers = [worker(group, dir, params), worker(group, dir, params)]
  try {
    await until('a run of two workers', () => workers.some((w) => /thread 1 of 2/.test(w.log)), undefined, workers)
    await until('output of the two', async () => (await readAll<Row>(output)).flat().length > 0, undefined, workers)
    const leader = workers.find((w) => /thread (\d+) of 2\n(?![\s\S]*thread)/.exec(w.log)?.[1] === '0') ?? workers[0]
    leader.proc.kill('SIGKILL')
    const alive = workers.find((w) => w !== leader)!
    assert.equal(await alive.exited, 0, alive.log)
    assert.match(alive.log, /thread 0 of 1/)
  } finally {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
  const all = Array.from({ length: COUNT }, (_, n) => n)
  const passed = all.filter((n) => n % 5 !== 0).map((n) => n * 2)
  assert.deepEqual(await settled(async () => (await readAll<Row>(output)).flat().map((r) => r.n).sort((a, b) => a - b), passed), passed)
  const want = all.filter((n) => n % 5 === 0)
  assert.deepEqual(await settled(() => letters(dlq), want), want)
})
