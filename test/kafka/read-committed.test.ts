// read_committed against the real broker: aborted transactions never reach a pipeline, however they lie in
// the partition (the two cases a pure JavaScript client was measured to get wrong, and interleaved producers).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { broker, createTopic, producer, readAll, topicName } from './support.ts'

const txnProducer = (id: string) => producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 })

test('two aborted transactions of one producer in one partition: none of their records is delivered', { skip: broker.skip }, async () => {
  const topic = topicName('rc-two-aborted')
  await createTopic(topic)
  const p = await txnProducer(`${topic}-p`)
  try {
    const steps: [string, boolean][] = [['c1', true], ['a1', false], ['c2', true], ['a2', false], ['c3', true]]
    for (const [tag, commit] of steps) {
      const t = await p.transaction()
      await t.send({ topic, messages: [0, 1, 2].map((i) => ({ value: JSON.stringify(`${tag}-${i}`) })) })
      if (commit) await t.commit()
      else await t.abort()
    }
  } finally {
    await p.disconnect()
  }
  const [got] = await readAll<string>(topic)
  assert.deepEqual(got, ['c1-0', 'c1-1', 'c1-2', 'c2-0', 'c2-1', 'c2-2', 'c3-0', 'c3-1', 'c3-2'])
  const [all] = await readAll<string>(topic, { isolation: 'read_uncommitted' })
  assert.equal(all.length, 15, 'read_uncommitted sees the aborted records too')
})

test('an aborted transaction larger than one fetch: none of its 2,000 records is delivered', { skip: broker.skip }, async () => {
  const topic = topicName('rc-large-aborted')
  await createTopic(topic)
  const p = await txnProducer(`${topic}-p`)
  try {
    const before = await p.transaction()
    await before.send({ topic, messages: [{ value: '"before"' }] })
    await before.commit()
    const t = await p.transaction()
    // About 1 KiB each: 2,000 records span several fetches of 64 KiB.
    const pad = 'x'.repeat(1000)
    for (let b = 0; b < 20; b++) await t.send({ topic, messages: Array.from({ length: 100 }, (_, i) => ({ value: JSON.stringify({ aborted: b * 100 + i, pad }) })) })
    await t.abort()
    const after = await p.transaction()
    await after.send({ topic, messages: [{ value: '"after"' }] })
    await after.commit()
  } finally {
    await p.disconnect()
  }
  const [got] = await readAll<unknown>(topic, { maxBytesPerPartition: 64 * 1024 })
  assert.deepEqual(got, ['before', 'after'])
})

test('aborted transactions of two producers interleaved in one partition, read from inside them', { skip: broker.skip }, async () => {
  const topic = topicName('rc-interleaved')
  await createTopic(topic)
  const a = await txnProducer(`${topic}-a`)
  const b = await txnProducer(`${topic}-b`)
  try {
    const ta = await a.transaction()
    const tb = await b.transaction()
    for (let i = 0; i < 5; i++) {
      await ta.send({ topic, messages: [{ value: JSON.stringify(`a${i}`) }] })
      await tb.send({ topic, messages: [{ value: JSON.stringify(`b${i}`) }] })
    }
    await ta.abort()
    await tb.abort()
    for (const [p, tag] of [[a, 'a'], [b, 'b']] as const) {
      const t = await p.transaction()
      await t.send({ topic, messages: [{ value: JSON.stringify(`${tag}-committed`) }] })
      await t.commit()
    }
  } finally {
    await a.disconnect()
    await b.disconnect()
  }
  // Offsets: a0 b0 a1 b1 ... a4 b4 (0-9), two abort markers, then the committed records. A fetch starting
  // inside both aborted transactions must know both before it judges its first record.
  for (let start = 0; start < 10; start++) {
    const [got] = await readAll<string>(topic, { maxBytesPerPartition: 1024 }, [start])
    assert.deepEqual(got, ['a-committed', 'b-committed'], `from offset ${start}`)
  }
})

test('an open transaction holds read_committed back until it commits', { skip: broker.skip }, async () => {
  const topic = topicName('rc-open')
  await createTopic(topic)
  const p = await txnProducer(`${topic}-p`)
  const plain = await producer({ idempotent: true })
  try {
    const t = await p.transaction()
    await t.send({ topic, messages: [{ value: '"in-txn"' }] })
    await plain.send({ topic, messages: [{ value: '"plain"' }] })
    const [before] = await readAll<string>(topic)
    assert.deepEqual(before, [], 'nothing past the open transaction is delivered')
    await t.commit()
    const [after] = await readAll<string>(topic)
    assert.deepEqual(after, ['in-txn', 'plain'])
  } finally {
    await p.disconnect()
    await plain.disconnect()
  }
})
