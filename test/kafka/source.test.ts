// source.kafka's options against the real broker: where it starts, what it exposes, how it decodes, and what it
// does with a record it cannot decode.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kafka } from '../../src/connectors/kafka/source.ts'
import type { KafkaRecord } from '../../src/connectors/kafka/source.ts'
import { createClient, createCluster } from '../../src/connectors/kafka/client.ts'
import { commitGroupOffsets } from '../../src/connectors/kafka/groups.ts'
import { END } from '../../src/core/source.ts'
import { bootstrap, broker, createTopic, producer, readAll, topicName } from './support.ts'

async function produce(topic: string, messages: { partition?: number; key?: string; value: string; headers?: Record<string, string>; timestamp?: string }[]): Promise<void> {
  const p = await producer({ idempotent: true })
  try {
    await p.send({ topic, messages })
  } finally {
    await p.disconnect()
  }
}

test('starts at earliest, latest, a timestamp or the group committed offsets', { skip: broker.skip }, async () => {
  const topic = topicName('src-from')
  await createTopic(topic)
  await produce(topic, [0, 1, 2, 3].map((n) => ({ value: String(n), timestamp: String(1_000_000 + n * 1000) })))
  assert.deepEqual(await readAll(topic), [[0, 1, 2, 3]])
  assert.deepEqual(await readAll(topic, { from: 'latest' }), [[]])
  assert.deepEqual(await readAll(topic, { from: { timestamp: 1_002_000 } }), [[2, 3]])
  assert.deepEqual(await readAll(topic, { from: { timestamp: 9_000_000 } }), [[]])
  const group = `${topic}-g`
  assert.deepEqual(await readAll(topic, { from: 'committed', group }), [[0, 1, 2, 3]], 'no committed offset: from earliest')
  const cluster = createCluster(createClient({ brokers: bootstrap() }))
  await cluster.connect()
  try {
    await commitGroupOffsets(cluster, group, [{ topic, partition: 0, offset: 3 }])
  } finally {
    await cluster.disconnect()
  }
  assert.deepEqual(await readAll(topic, { from: 'committed', group }), [[3]])
})

test('keys, headers, timestamps and offsets with metadata; string and bytes formats', { skip: broker.skip }, async () => {
  const topic = topicName('src-meta')
  await createTopic(topic)
  await produce(topic, [{ key: 'k1', value: '{"a":1}', headers: { h: 'v' }, timestamp: '1700000000000' }])
  const [[r]] = await readAll<KafkaRecord<{ a: number }>>(topic, { metadata: true })
  assert.deepEqual(r, { topic, partition: 0, offset: 0, timestamp: 1700000000000, key: 'k1', headers: { h: 'v' }, value: { a: 1 } })
  assert.deepEqual(await readAll(topic, { format: 'string' }), [['{"a":1}']])
  const [[bytes]] = await readAll<Uint8Array>(topic, { format: 'bytes' })
  assert.deepEqual(Buffer.from(bytes).toString(), '{"a":1}')
  assert.deepEqual(await readAll(topic, { decode: (v, m) => `${m.key}=${v.length}` }), [['k1=7']])
})

test('a record that is not JSON is reported malformed with its position, never quoted, and reading goes on', { skip: broker.skip }, async () => {
  const topic = topicName('src-bad')
  await createTopic(topic)
  await produce(topic, [{ value: '1' }, { value: 'secret-not-json' }, { value: '3' }])
  const bad: { message: string; raw: unknown; position: unknown }[] = []
  const reader = await kafka<number>({ brokers: bootstrap(), topics: topic, stopAtEnd: true }).open({
    pipeline: 'p',
    stepId: 'source-1',
    signal: new AbortController().signal,
    malformed: (e, raw, position) => bad.push({ message: (e as Error).message, raw, position }),
  })
  const got: number[] = []
  try {
    for (;;) {
      const r = await reader.read(0, 100)
      if (r === END) break
      if (r !== null) got.push(...r.values)
    }
    assert.deepEqual(reader.positions!(), [{ topic, partition: 0, offset: 3 }])
  } finally {
    await reader.close()
  }
  assert.deepEqual(got, [1, 3])
  assert.deepEqual(bad, [{ message: 'not valid JSON', raw: 'secret-not-json', position: `${topic}/0:1` }])
})

test('topics by pattern: every partition of every matching topic, in name order', { skip: broker.skip }, async () => {
  const base = topicName('src-pattern')
  await createTopic(`${base}-b`, 2)
  await createTopic(`${base}-a`, 1)
  await produce(`${base}-a`, [{ value: '"a"' }])
  await produce(`${base}-b`, [{ value: '"b0"', partition: 0 }, { value: '"b1"', partition: 1 }])
  const escaped = base.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')
  assert.deepEqual(await readAll([], { topics: undefined, pattern: new RegExp(`^${escaped}-`) }), [['a'], ['b0'], ['b1']])
})

test('pattern: a topic created after the start is found, read from earliest; a seek puts the partitions of the checkpoint first; adopt takes another list', { skip: broker.skip, timeout: 120_000 }, async () => {
  const base = topicName('src-discover')
  const escaped = base.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')
  const opts = { brokers: bootstrap(), pattern: new RegExp(`^${escaped}-`), pollInterval: '20ms', discoveryInterval: '100ms' } as const
  const ctx = { pipeline: 'p', stepId: 's', signal: new AbortController().signal, malformed: () => {} }
  await createTopic(`${base}-a`, 1)
  await produce(`${base}-a`, [{ value: '"a"' }])
  const first = await kafka<string>(opts).open(ctx)
  const second = await kafka<string>({ ...opts, from: 'latest' }).open(ctx)
  const third = await kafka<string>(opts).open(ctx)
  const readOne = async (reader: typeof first, partition: number): Promise<string[]> => {
    for (;;) {
      const r = await reader.read(partition, 10)
      if (r === END) return []
      if (r !== null && r.values.length > 0) return r.values
    }
  }
  try {
    assert.equal(first.partitions, 1)
    assert.equal(first.discoverEveryMs, 100)
    await createTopic(`${base}-b`, 2)
    await produce(`${base}-b`, [{ value: '"b0"', partition: 0 }, { value: '"b1"', partition: 1 }])
    const end = Date.now() + 60_000
    while ((await first.discover!()) < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(first.splits!(), [`${base}-a/0`, `${base}-b/0`, `${base}-b/1`])
    assert.deepEqual(await readOne(first, 0), ['a'])
    assert.deepEqual(await readOne(first, 2), ['b1'], 'a partition found later is read from its earliest offset')
    const at = first.positions!()
    assert.deepEqual(at, [
      { topic: `${base}-a`, partition: 0, offset: 1 },
      { topic: `${base}-b`, partition: 0, offset: 0 },
      { topic: `${base}-b`, partition: 1, offset: 1 },
    ])
    // A topic that sorts first, created after the checkpoint: after it, from the earliest offset (not 'latest').
    await createTopic(`${base}-0`, 1)
    await produce(`${base}-0`, [{ value: '"z"' }])
    const again = await kafka<string>({ ...opts, from: 'latest' }).open(ctx)
    try {
      assert.equal(again.splits!()[0], `${base}-0/0`)
      await again.seek!(at)
      assert.deepEqual(again.splits!(), [`${base}-a/0`, `${base}-b/0`, `${base}-b/1`, `${base}-0/0`])
      assert.deepEqual(await readOne(again, 1), ['b0'])
      assert.deepEqual(await readOne(again, 3), ['z'])
    } finally {
      await again.close()
    }
    // Another subtask's list, taken before the first read: partitions it had not seen start as `from` says.
    await second.adopt!([`${base}-b/1`, `${base}-a/0`])
    assert.deepEqual(second.splits!(), [`${base}-b/1`, `${base}-a/0`])
    assert.deepEqual(second.positions!(), [
      { topic: `${base}-b`, partition: 1, offset: 1 },
      { topic: `${base}-a`, partition: 0, offset: 1 },
    ])
    assert.equal(await third.discover!(), 4)
  } finally {
    await Promise.all([first.close(), second.close(), third.close()])
  }
})

test('options are checked before anything connects', () => {
  assert.throws(() => kafka({ brokers: 'x:1' }), /give either 'topics' or 'pattern'/)
  assert.throws(() => kafka({ brokers: 'x:1', topics: 't', from: 'committed' }), /needs a 'group'/)
  assert.throws(() => kafka({ brokers: 'x:1', topics: 't', isolation: 'dirty' as never }), /isolation/)
})

test('consumer lag: the high watermark of the last fetch minus the position, per partition', { skip: broker.skip }, async () => {
  const topic = topicName('src-lag')
  await createTopic(topic)
  await produce(topic, Array.from({ length: 50 }, (_, n) => ({ value: String(n) })))
  const reader = await kafka<number>({ brokers: bootstrap(), topics: topic, pollInterval: '20ms' }).open({ pipeline: 'p', stepId: 's', signal: new AbortController().signal, malformed: () => {} })
  try {
    let r = await reader.read(0, 20)
    while (r === null) r = await reader.read(0, 20)
    assert.ok(r !== END && r.values.length === 20)
    assert.equal(reader.lag!(0), 30)
    assert.equal(reader.lagUnit ?? 'records', 'records')
  } finally {
    await reader.close()
  }
})
