// sink.kafka beyond the conformance suite: the at-least-once writer, a stopped run's records after its last
// checkpoint, and the one case exactly-once cannot survive (a prepared transaction the broker timed out),
// which must fail loudly instead of losing records quietly.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { kafka } from '../../src/connectors/kafka/sink.ts'
import type { SinkContext } from '../../src/core/sink.ts'
import { SluiceError } from '../../src/core/errors.ts'
import { bootstrap, broker, createTopic, openOffsets, readAll, settled, topicName } from './support.ts'

const ctx = (checkpointing: boolean): SinkContext => ({ pipeline: 'p', stepId: 'sink-kafka-1', subtask: 0, parallelism: 1, checkpointing })
const batch = (from: number, n: number) => ({ values: Array.from({ length: n }, (_, i) => ({ n: from + i })), times: [] })
const numbers = async (topic: string) => (await readAll<{ n: number }>(topic)).flat().map((r) => r.n).sort((a, b) => a - b)

test('at-least-once: an idempotent producer, flushed at each barrier; visible at once', { skip: broker.skip }, async () => {
  const topic = topicName('sink-alo')
  await createTopic(topic, 2)
  const s = kafka<{ n: number }>({ brokers: bootstrap(), topic, guarantee: 'at-least-once', key: (r) => String(r.n) })
  assert.equal(s.guaranteeFor!({ checkpointing: true }), 'at-least-once')
  const w = await s.open(ctx(true))
  await w.write(batch(0, 10))
  await w.preCommit!(1)
  assert.deepEqual(await numbers(topic), Array.from({ length: 10 }, (_, i) => i))
  await w.write(batch(10, 5))
  await w.close()
  assert.equal((await numbers(topic)).length, 15)
})

test("exactly-once: a closed writer's records after its last checkpoint are aborted, none left open", { skip: broker.skip }, async () => {
  const topic = topicName('sink-close')
  await createTopic(topic)
  const w = await kafka<{ n: number }>({ brokers: bootstrap(), topic, transactionalIdPrefix: topic }).open(ctx(true))
  await w.recover!([])
  await w.write(batch(0, 10))
  await w.commit!(1, await w.preCommit!(1))
  await w.write(batch(10, 10))
  await w.close()
  const ten = Array.from({ length: 10 }, (_, i) => i)
  assert.deepEqual(await settled(() => numbers(topic), ten), ten)
  assert.equal(await settled(() => openOffsets(topic), 0), 0)
})

test('a prepared transaction the broker aborted after its timeout fails the restore with SLUICE_KAFKA_TRANSACTION_LOST', { skip: broker.skip }, async () => {
  const topic = topicName('sink-lost')
  await createTopic(topic)
  const options = { brokers: bootstrap(), topic, transactionalIdPrefix: topic, transactionTimeout: 1500 }
  const first = await kafka<{ n: number }>(options).open(ctx(true))
  await first.recover!([])
  await first.write(batch(0, 10))
  const handle = await first.preCommit!(1)
  await first.close() // as if the process died: the checkpoint is complete, its transaction not committed
  // The broker aborts it once it is older than the timeout (it looks every second here).
  for (let i = 0; i < 100 && (await openOffsets(topic)) > 0; i++) await sleep(200)
  const second = await kafka<{ n: number }>(options).open(ctx(true))
  try {
    await assert.rejects(async () => second.recover!([{ subtask: 0, checkpointId: 1, handle }]), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_KAFKA_TRANSACTION_LOST' && e.domain === 'external')
  } finally {
    await second.close()
  }
  assert.deepEqual(await numbers(topic), [])
})
