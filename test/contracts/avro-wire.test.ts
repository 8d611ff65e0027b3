import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry as Client } from '@kafkajs/confluent-schema-registry'
import { contract, pipeline, run, sink, source } from '../../src/index.ts'
import { avroWire, unframe } from '../../src/contracts/wire/confluent-avro.ts'
import { startRegistry } from '../../src/contracts/registry/server.ts'

const v1 = contract({ name: 'bids', schema: { type: 'record', name: 'Bid', fields: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }] } })
const v2 = contract({ name: 'bids', version: 2, schema: { type: 'record', name: 'Bid', fields: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }] } })

test('the log carries Avro in the Confluent wire format: written with v1, read with v2, decoded by a Confluent client', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-avro-wire-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const registryDir = join(dir, 'registry')
  const srv = await startRegistry({ dir: registryDir, port: 0 })
  t.after(() => srv.close())
  const id1 = (await srv.registry.register(v1.subject, { schema: v1.schemaText.schema })).id
  const id2 = (await srv.registry.register(v2.subject, { schema: v2.schemaText.schema })).id

  const logDir = join(dir, 'log')
  const writer = pipeline('produce')
  writer.from(source.collection([{ auction: 1, price: 10 }, { auction: 2, price: 20 }])).to(sink.log(logDir, 'bids', { encode: avroWire(v1, { id: id1 }).encode }))
  await run(writer)

  const seen: Buffer[] = []
  const raw = pipeline('raw')
  raw.from(source.log(logDir, 'bids', { stopAtEnd: true, decode: (b) => Buffer.from(b) })).to(sink.collect())
  const out = sink.collect<unknown>()
  const reader = pipeline('consume', { onError: 'error-output' })
  const wire = avroWire(v2, { id: id2, writerSchemas: { registryDir } })
  reader.from(source.log(logDir, 'bids', { stopAtEnd: true, decode: (b) => (seen.push(Buffer.from(b)), wire.decode(b)) })).to(out)
  await run(reader)
  assert.deepEqual(out.values, [{ auction: 1, price: 10, channel: 'web' }, { auction: 2, price: 20, channel: 'web' }])
  assert.deepEqual(seen.map((b) => unframe(b).id), [id1, id1])

  const client = new Client({ host: srv.url, retry: { retries: 0 } })
  assert.deepEqual({ ...(await client.decode(seen[0])) }, { auction: 1, price: 10 })
  const fromClient = await client.encode(id2, { auction: 3, price: 30, channel: 'app' })
  assert.deepEqual(wire.decode(fromClient), { auction: 3, price: 30, channel: 'app' })
  assert.throws(() => wire.decode(Buffer.from('{"auction":1}')), /SLUICE_BAD_AVRO|Confluent wire format/)
  assert.throws(() => avroWire(v2, { id: id2 }).decode(seen[0]), /schema id 1 is unknown/)
})
