import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry as Client, SchemaType } from '@kafkajs/confluent-schema-registry'
import { SchemaRegistry } from '../../src/contracts/registry/registry.ts'
import { serveControlPlane } from '../../src/server/serve.ts'

const bidV1 = { type: 'record', name: 'Bid', namespace: 'nexmark', fields: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }] }
const bidV2 = { ...bidV1, fields: [...bidV1.fields, { name: 'channel', type: 'string', default: 'web' }] }
const bidBad = { ...bidV1, fields: [...bidV1.fields, { name: 'url', type: 'string' }] }

test('sluice serve serves a registry folder under /registry: a Confluent client registers, encodes, decodes and is refused an incompatible change, with tokens', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'sluice-serve-registry-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const registryDir = join(root, 'registry')
  const server = await serveControlPlane({ jobs: new Map(), stateDir: join(root, 'server'), registry: registryDir, port: 0 })
  try {
    const operator = (await server.tokens.create('operator')).token
    const viewer = (await server.tokens.create('viewer')).token
    const admin = (await server.tokens.create('admin')).token
    const base = `${server.url}/registry`
    // Confluent's clients send the token as the password of basic auth.
    const client = new Client({ host: base, auth: { username: 'sluice', password: operator }, retry: { retries: 0 } })
    const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bidV1) }, { subject: 'bids-value' })
    const bytes = await client.encode(id, { auction: 7, price: 120 })
    assert.deepEqual({ ...(await client.decode(bytes)) }, { auction: 7, price: 120 })
    const { id: id2 } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bidV2) }, { subject: 'bids-value' })
    assert.equal(await client.getLatestSchemaId('bids-value'), id2)
    await assert.rejects(client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bidBad) }, { subject: 'bids-value' }), (e: Error & { status?: number }) => e.status === 409 && /url/.test(e.message))

    // A viewer reads, looks up and checks, but does not register; no token, nothing.
    const call = async (token: string | undefined, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, { method, headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/vnd.schemaregistry.v1+json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
      return { status: res.status, body: (await res.json()) as any }
    }
    assert.deepEqual(await call(viewer, 'GET', '/subjects/bids-value/versions'), { status: 200, body: [1, 2] })
    assert.equal((await call(viewer, 'POST', '/subjects/bids-value', { schema: JSON.stringify(bidV1) })).body.version, 1)
    assert.deepEqual((await call(viewer, 'POST', '/compatibility/subjects/bids-value/versions/latest', { schema: JSON.stringify(bidBad) })).body, { is_compatible: false })
    const refused = await call(viewer, 'POST', '/subjects/bids-value/versions', { schema: JSON.stringify(bidV2) })
    assert.deepEqual([refused.status, refused.body.error_code], [403, 40301])
    assert.deepEqual([(await call(viewer, 'PUT', '/config', { compatibility: 'NONE' })).status, (await call(viewer, 'DELETE', '/subjects/bids-value')).status], [403, 403])
    const anonymous = await call(undefined, 'GET', '/subjects')
    assert.deepEqual([anonymous.status, anonymous.body.error_code], [401, 40101])
    assert.equal((await call('nope', 'GET', '/subjects')).status, 401)
    assert.equal((await call(viewer, 'GET', '/subjects/nope/versions')).body.error_code, 40401)

    // What another process (here another registry on the folder) registers is answered at once.
    await (await SchemaRegistry.open(registryDir)).register('other-value', { schema: '"string"' })
    assert.deepEqual((await call(viewer, 'GET', '/subjects')).body, ['bids-value', 'other-value'])
    const { id: id3 } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify({ ...bidV1, name: 'Third' }) }, { subject: 'third-value' })
    assert.deepEqual((await SchemaRegistry.open(registryDir)).versions('other-value'), [1])
    assert.equal((await SchemaRegistry.open(registryDir)).version('third-value', 'latest').id, id3)

    // Changes and refusals are in the audit log.
    const audit = (await (await fetch(`${server.url}/api/audit`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { method: string; path: string; status: number; role: string | null }[]
    const registry = audit.filter((e) => e.path.startsWith('/registry/'))
    assert.ok(registry.some((e) => e.method === 'POST' && e.path === '/registry/subjects/bids-value/versions' && e.status === 200 && e.role === 'operator'))
    assert.ok(registry.some((e) => e.path === '/registry/subjects/bids-value/versions' && e.status === 409))
    assert.ok(registry.some((e) => e.status === 403 && e.role === 'viewer'))
    assert.ok(registry.some((e) => e.status === 401 && e.role === null))
  } finally {
    await server.close()
  }
})
