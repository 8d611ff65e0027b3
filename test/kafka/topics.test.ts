// Creating topics on the real broker: several clients racing to create the same topics all return once every
// partition has a leader, and a send right after needs no retry for an unknown topic.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient } from '../../src/connectors/kafka/client.ts'
import { createTopics } from '../../src/connectors/kafka/topics.ts'
import { bootstrap, broker, producer, readAll, topicName, withAdmin } from './support.ts'

test('clients racing to create the same topics all return when every partition has a leader', { skip: broker.skip }, async () => {
  const a = topicName('race-a')
  const b = topicName('race-b')
  const specs = [{ topic: a, numPartitions: 4 }, { topic: b, numPartitions: 1 }]
  await Promise.all(Array.from({ length: 3 }, () => createTopics(createClient({ brokers: bootstrap() }), specs)))
  const meta = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [a, b] }))
  const byName = new Map(meta.topics.map((t) => [t.name, t.partitions]))
  assert.equal(byName.get(a)?.length, 4)
  assert.equal(byName.get(b)?.length, 1)
  for (const parts of byName.values()) for (const p of parts) assert.ok(p.leader >= 0, `partition ${p.partitionId} has a leader`)
  const p = await producer({ allowAutoTopicCreation: false })
  try {
    await p.send({ topic: a, messages: [0, 1, 2, 3].map((partition) => ({ partition, value: String(partition) })) })
  } finally {
    await p.disconnect()
  }
  assert.deepEqual((await readAll<number>(a)).flat().sort(), [0, 1, 2, 3])
})

test('creating topics that exist changes nothing and returns', { skip: broker.skip }, async () => {
  const t = topicName('exists')
  await createTopics(createClient({ brokers: bootstrap() }), [{ topic: t, numPartitions: 2 }])
  await createTopics(createClient({ brokers: bootstrap() }), [{ topic: t, numPartitions: 2 }])
  const meta = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [t] }))
  assert.equal(meta.topics[0]!.partitions.length, 2)
})
