import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry as Client, SchemaType } from '@kafkajs/confluent-schema-registry'
import { startRegistry } from '../../src/contracts/registry/server.ts'

const bidV1 = { type: 'record', name: 'Bid', namespace: 'nexmark', fields: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }] }
const bidV2 = { ...bidV1, fields: [...bidV1.fields, { name: 'channel', type: 'string', default: 'web' }] }
const bidBad = { ...bidV1, fields: [...bidV1.fields, { name: 'url', type: 'string' }] }

test('a Confluent client registers, encodes, decodes and is refused an incompatible change; ids survive a restart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-registry-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  let srv = await startRegistry({ dir, port: 0 })
  try {
    const client = new Client({ host: srv.url, retry: { retries: 0 } })
    const { id: id1 } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bidV1) }, { subject: 'bids-value' })
    const bytes = await client.encode(id1, { auction: 7, price: 120 })
    assert.equal(bytes[0], 0)
    assert.equal(bytes.readInt32BE(1), id1)
    assert.deepEqual({ ...(await client.decode(bytes)) }, { auction: 7, price: 120 })

    const { id: id2 } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bidV2) }, { subject: 'bids-value' })
    assert.notEqual(id2, id1)
    assert.equal(await client.getLatestSchemaId('bids-value'), id2)
    // Data written with v1 is read with v2 as the reader schema: the default fills the new field.
    const asV2 = await client.decode(bytes, { [SchemaType.AVRO]: { readerSchema: bidV2 } } as never)
    assert.deepEqual({ ...asV2 }, { auction: 7, price: 120, channel: 'web' })

    await assert.rejects(client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bidBad) }, { subject: 'bids-value' }), (e: Error & { status?: number }) => {
      assert.equal(e.status, 409)
      assert.match(e.message, /incompatible/)
      assert.match(e.message, /url/)
      return true
    })

    // JSON Schema too.
    const js = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] }
    const { id: jid } = await client.register({ type: SchemaType.JSON, schema: JSON.stringify(js) }, { subject: 'people-value' })
    assert.deepEqual(await client.decode(await client.encode(jid, { id: 3 })), { id: 3 })
    await assert.rejects(client.encode(jid, { id: 'three' }))

    await srv.close()
    srv = await startRegistry({ dir, port: 0 })
    const again = new Client({ host: srv.url, retry: { retries: 0 } })
    assert.deepEqual({ ...(await again.decode(bytes)) }, { auction: 7, price: 120 })
    assert.equal(await again.getRegistryId('bids-value', 2), id2)
    const { id: same } = await again.register({ type: SchemaType.AVRO, schema: JSON.stringify(bidV2) }, { subject: 'bids-value' })
    assert.equal(same, id2)
  } finally {
    await srv.close()
  }
})
