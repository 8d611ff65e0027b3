// Avro with schema ids on the embedded log, through the same codec as Kafka's: sink.log registers its
// contract under `<topic>-value` and frames records with that id; source.log fetches each writer schema by
// id from the registry (a URL or its folder) and resolves it to the reader's contract.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry as Client } from '@kafkajs/confluent-schema-registry'
import { avroRegistry, contract, pipeline, run, sink, source, SluiceError, type Contract } from '../../src/index.ts'
import { acquireLog } from '../../src/connectors/log/shared-log.ts'
import { startRegistry } from '../../src/contracts/registry/server.ts'
import { frame, unframe } from '../../src/contracts/wire/confluent-avro.ts'

const v1 = contract({ name: 'bids', schema: { type: 'record', name: 'Bid', fields: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }] } })
const v2 = contract({ name: 'bids', version: 2, schema: { type: 'record', name: 'Bid', fields: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }] } })

test('sink.log and source.log take avroRegistry as codec: ids from the registry, v1 and v2 writers read with v2', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-avro-registry-log-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const registryDir = join(dir, 'registry')
  const srv = await startRegistry({ dir: registryDir, port: 0 })
  t.after(() => srv.close())
  const logDir = join(dir, 'log')

  const produce = async <T>(c: Contract<T>, values: T[]) => {
    const p = pipeline('produce')
    p.from(source.collection(values)).to(sink.log(logDir, 'bids', { codec: avroRegistry(c, { registry: srv.url }) }))
    assert.equal((await run(p)).status, 'finished')
  }
  await produce(v1, [{ auction: 1, price: 10 }, { auction: 2, price: 20 }])
  await produce(v2, [{ auction: 3, price: 30, channel: 'app' }])
  const id1 = srv.registry.lookup('bids-value', { schema: v1.schemaText.schema }).id
  const id2 = srv.registry.lookup('bids-value', { schema: v2.schemaText.schema }).id
  assert.deepEqual(srv.registry.versions('bids-value'), [1, 2])

  // Not framed, and framed under an id the registry does not know: both malformed, neither stops the read.
  const ref = await acquireLog(logDir, undefined)
  await ref.log.append('bids', 0, [{ value: '{"auction":9}' }, { value: frame(999, Buffer.from([2, 2])) }])
  await ref.release()

  const raw = sink.collect<Buffer>()
  const rawRead = pipeline('raw')
  rawRead.from(source.log(logDir, 'bids', { stopAtEnd: true, decode: (b) => Buffer.from(b) })).to(raw)
  await run(rawRead)
  assert.deepEqual(raw.values.slice(0, 3).map((b) => unframe(b).id), [id1, id1, id2])
  const client = new Client({ host: srv.url, retry: { retries: 0 } })
  assert.deepEqual({ ...(await client.decode(raw.values[2])) }, { auction: 3, price: 30, channel: 'app' })

  for (const registry of [srv.url, registryDir]) {
    const out = sink.collect<unknown>()
    const read = pipeline('consume', { onError: 'skip' })
    read.from(source.log(logDir, 'bids', { stopAtEnd: true, codec: avroRegistry(v2, { registry }) })).to(out)
    const summary = await run(read)
    assert.deepEqual(out.values, [{ auction: 1, price: 10, channel: 'web' }, { auction: 2, price: 20, channel: 'web' }, { auction: 3, price: 30, channel: 'app' }])
    assert.equal(summary.errors, 2, registry)
  }
  // a reader registers nothing: its contract is not a version of the producers' subject
  const other = contract({ name: 'bids', schema: { type: 'record', name: 'Bid', fields: [{ name: 'auction', type: 'long' }] } })
  const projected = sink.collect<unknown>()
  const p = pipeline('project', { onError: 'skip' })
  p.from(source.log(logDir, 'bids', { stopAtEnd: true, codec: avroRegistry(other, { registry: srv.url }) })).to(projected)
  await run(p)
  assert.deepEqual(projected.values, [{ auction: 1 }, { auction: 2 }, { auction: 3 }])
  assert.deepEqual(srv.registry.versions('bids-value'), [1, 2])
})

test('sink.log with avroRegistry: a registry that cannot be reached fails the open; a codec without encode/decode is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-avro-registry-log-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const p = pipeline('unreachable')
  p.from(source.collection([{ auction: 1, price: 1 }])).to(sink.log(dir, 'bids', { codec: avroRegistry(v1, { registry: 'http://127.0.0.1:9/' }) }))
  await assert.rejects(run(p), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SCHEMA_REGISTRY_FAILED')
  assert.throws(() => sink.log(dir, 'bids', { codec: {} }), /codec must have an encode function/)
  assert.throws(() => source.log(dir, 'bids', { codec: {} }), /codec must have a decode function/)
})
