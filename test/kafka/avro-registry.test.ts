// Avro with schema ids on the real broker: a Confluent client produces v1 and v2 records registered in the
// embedded registry served over HTTP; source.kafka fetches each writer schema by id and resolves it to the
// contract (v2), sink.kafka registers the contract under `<topic>-value` and frames its records with that id,
// and the Confluent client decodes the output.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { SchemaRegistry as Client, SchemaType } from '@kafkajs/confluent-schema-registry'
import { avroRegistry, contract, pipeline, run, sink, source } from '../../src/index.ts'
import { startRegistry } from '../../src/contracts/registry/server.ts'
import { bootstrap, broker, createTopic, producer, readAll, topicName } from './support.ts'

const bidV1 = { type: 'record', name: 'Bid', fields: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }] } as const
const bidV2 = { type: 'record', name: 'Bid', fields: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }] } as const
const bids = contract({ name: 'bids', version: 2, schema: bidV2 })

test('source.kafka decodes Confluent-framed Avro by schema id from a registry URL; sink.kafka writes under a registered id', { skip: broker.skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-kafka-avro-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const srv = await startRegistry({ dir: join(dir, 'registry'), port: 0 })
  t.after(() => srv.close())
  const client = new Client({ host: srv.url, retry: { retries: 0 } })
  const input = topicName('avro-in')
  const output = topicName('avro-out')
  await createTopic(input, 2)
  await createTopic(output, 1)

  const { id: id1 } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bidV1) }, { subject: `${input}-value` })
  const p = await producer({ idempotent: true })
  try {
    const v1 = await Promise.all(Array.from({ length: 50 }, (_, i) => client.encode(id1, { auction: i, price: 10 * i })))
    await p.send({ topic: input, messages: v1.map((value, i) => ({ partition: i % 2, value })) })
    // A producer on v2 after it: the registry gives it another id.
    const { id: id2 } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bidV2) }, { subject: `${input}-value` })
    assert.notEqual(id2, id1)
    const v2 = await Promise.all(Array.from({ length: 50 }, (_, i) => client.encode(id2, { auction: 50 + i, price: 10 * (50 + i), channel: 'app' })))
    await p.send({ topic: input, messages: v2.map((value, i) => ({ partition: i % 2, value })) })
    // Not framed, and framed under an id the registry does not know: both malformed.
    await p.send({ topic: input, messages: [{ partition: 0, value: '{"auction":1}' }, { partition: 1, value: Buffer.from([0, 0, 0, 0x7f, 0x7f, 2]) }] })
  } finally {
    await p.disconnect()
  }

  const job = pipeline('avro-kafka', { onError: 'skip' })
  job
    .from(source.kafka({ brokers: bootstrap(), topics: input, stopAtEnd: true, pollInterval: '20ms', codec: avroRegistry(bids, { registry: srv.url }) }))
    .map((b) => ({ ...b, price: b.price * 2 }))
    .to(sink.kafka({ brokers: bootstrap(), topic: output, codec: avroRegistry(bids, { registry: srv.url }), transactionalIdPrefix: output, transactionTimeout: 60_000 }))
  const summary = await run(job, { checkpoint: { dir: join(dir, 'cp'), intervalMs: 100 } })
  assert.equal(summary.status, 'finished')

  const outId = srv.registry.lookup(`${output}-value`, { schema: bids.schemaText.schema }).id
  const raw = (await readAll<Uint8Array>(output, { format: 'bytes' })).flat().map((b) => Buffer.from(b))
  assert.equal(raw.length, 100)
  assert.ok(raw.every((b) => b[0] === 0 && b.readInt32BE(1) === outId))
  const got = (await Promise.all(raw.map((b) => client.decode(b)))).map((r) => ({ ...r }) as { auction: number; price: number; channel: string })
  got.sort((a, b) => a.auction - b.auction)
  assert.deepEqual(
    got,
    Array.from({ length: 100 }, (_, i) => ({ auction: i, price: 20 * i, channel: i < 50 ? 'web' : 'app' })),
  )
})

test('avroRegistry: a sink that may only look its schema up fails to open when the subject lacks it', { skip: broker.skip }, async (t) => {
  const srv = await startRegistry({ port: 0 })
  t.after(() => srv.close())
  const codec = avroRegistry(bids, { registry: srv.url, register: false })
  await assert.rejects(codec.open!(['nowhere']), /not registered under 'nowhere-value'/)
})
