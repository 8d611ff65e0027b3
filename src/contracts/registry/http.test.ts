import { test } from 'node:test'
import assert from 'node:assert/strict'
import { registryApp } from './http.ts'
import { SchemaRegistry } from './registry.ts'

const avro = (fields: object[]) => JSON.stringify({ type: 'record', name: 'R', fields })
const v1 = avro([{ name: 'a', type: 'int' }])
const v2 = avro([{ name: 'a', type: 'long' }, { name: 'b', type: 'string', default: '' }])

async function api() {
  const app = registryApp(await SchemaRegistry.open())
  return async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' } } : {}) })
    return { status: res.status, body: await res.json() as any }
  }
}

test('subjects, versions, schemas by id and lookup', async () => {
  const call = await api()
  assert.deepEqual(await call('POST', '/subjects/s/versions', { schema: v1 }), { status: 200, body: { id: 1 } })
  assert.deepEqual(await call('POST', '/subjects/s/versions', { schema: v1 }), { status: 200, body: { id: 1 } })
  assert.deepEqual((await call('POST', '/subjects/t/versions', { schema: v1 })).body, { id: 1 }) // same text, same id
  assert.deepEqual((await call('POST', '/subjects/s/versions', { schema: v2 })).body, { id: 2 })
  assert.deepEqual((await call('GET', '/subjects')).body, ['s', 't'])
  assert.deepEqual((await call('GET', '/subjects/s/versions')).body, [1, 2])
  assert.deepEqual((await call('GET', '/subjects/s/versions/latest')).body, { subject: 's', version: 2, id: 2, schema: v2 })
  assert.deepEqual((await call('GET', '/subjects/s/versions/1/schema')).body, JSON.parse(v1))
  assert.deepEqual((await call('GET', '/schemas/ids/2')).body, { schema: v2 })
  assert.deepEqual((await call('GET', '/schemas/ids/1/versions')).body, [{ subject: 's', version: 1 }, { subject: 't', version: 1 }])
  assert.equal((await call('POST', '/subjects/s', { schema: avro([{ name: 'a', type: 'int' }]) })).body.version, 1)
  assert.deepEqual(await call('POST', '/subjects/s', { schema: avro([{ name: 'z', type: 'int' }]) }), { status: 404, body: { error_code: 40403, message: 'Schema not found' } })
  assert.equal((await call('POST', '/subjects/nope', { schema: v1 })).body.error_code, 40401)
  assert.equal((await call('GET', '/subjects/s/versions/9')).body.error_code, 40402)
  assert.equal((await call('GET', '/subjects/s/versions/x')).body.error_code, 42202)
  assert.equal((await call('GET', '/schemas/ids/99')).body.error_code, 40403)
  assert.equal((await call('POST', '/subjects/s/versions', { schema: '{"type":"record"}' })).body.error_code, 42201)
  const json = await call('POST', '/subjects/j/versions', { schemaType: 'JSON', schema: '{"type":"object"}' })
  assert.deepEqual((await call('GET', `/schemas/ids/${json.body.id}`)).body, { schemaType: 'JSON', schema: '{"type":"object"}' })
})

test('compatibility: config, the check endpoint and a refused registration', async () => {
  const call = await api()
  await call('POST', '/subjects/s/versions', { schema: v1 })
  assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' })
  assert.deepEqual(await call('GET', '/config/s'), { status: 404, body: { error_code: 40408, message: "Subject 's' does not have subject-level compatibility configured" } })
  assert.deepEqual((await call('GET', '/config/s?defaultToGlobal=true')).body, { compatibilityLevel: 'BACKWARD' })
  assert.equal((await call('PUT', '/config', { compatibility: 'SIDEWAYS' })).body.error_code, 42203)
  const narrowing = avro([{ name: 'a', type: 'string' }])
  assert.deepEqual((await call('POST', '/compatibility/subjects/s/versions/latest', { schema: v2 })).body, { is_compatible: true })
  const verdict = (await call('POST', '/compatibility/subjects/s/versions/latest?verbose=true', { schema: narrowing })).body
  assert.equal(verdict.is_compatible, false)
  assert.match(verdict.messages[0], /TYPE_MISMATCH at 'a'/)
  assert.equal((await call('POST', '/subjects/s/versions', { schema: narrowing })).status, 409)
  assert.deepEqual((await call('PUT', '/config/s', { compatibility: 'NONE' })).body, { compatibility: 'NONE' })
  assert.equal((await call('POST', '/subjects/s/versions', { schema: narrowing })).status, 200)
  assert.deepEqual((await call('DELETE', '/config/s')).body, { compatibilityLevel: 'NONE' })
  assert.deepEqual((await call('PUT', '/config', { compatibility: 'FULL' })).body, { compatibility: 'FULL' })
  assert.deepEqual((await call('DELETE', '/config')).body, { compatibilityLevel: 'FULL' })
  assert.deepEqual((await call('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' })
  assert.deepEqual((await call('POST', '/compatibility/subjects/new/versions/latest', { schema: v1 })).body, { is_compatible: true })
})

test('soft and hard deletes with their error codes', async () => {
  const call = await api()
  await call('POST', '/subjects/s/versions', { schema: v1 })
  await call('POST', '/subjects/s/versions', { schema: v2 })
  assert.equal((await call('DELETE', '/subjects/s/versions/1?permanent=true')).body.error_code, 40407)
  assert.deepEqual((await call('DELETE', '/subjects/s/versions/1')).body, 1)
  assert.equal((await call('DELETE', '/subjects/s/versions/1')).body.error_code, 40406)
  assert.deepEqual((await call('GET', '/subjects/s/versions')).body, [2])
  assert.deepEqual((await call('GET', '/subjects/s/versions?deleted=true')).body, [1, 2])
  assert.equal((await call('GET', '/subjects/s/versions/1')).body.error_code, 40402)
  assert.equal((await call('GET', '/subjects/s/versions/1?deleted=true')).body.version, 1)
  assert.deepEqual((await call('DELETE', '/subjects/s/versions/1?permanent=true')).body, 1)
  assert.equal((await call('DELETE', '/subjects/s?permanent=true')).body.error_code, 40405)
  assert.deepEqual((await call('DELETE', '/subjects/s')).body, [2])
  assert.equal((await call('DELETE', '/subjects/s')).body.error_code, 40404)
  assert.deepEqual((await call('GET', '/subjects')).body, [])
  assert.deepEqual((await call('GET', '/subjects?deleted=true')).body, ['s'])
  assert.deepEqual((await call('DELETE', '/subjects/s?permanent=true')).body, [2])
  assert.equal((await call('GET', '/subjects/s/versions?deleted=true')).body.error_code, 40401)
  // the schema stays readable by id: data written with it can still be decoded
  assert.equal((await call('GET', '/schemas/ids/1')).status, 200)
  // a subject registered again after a hard delete starts at version 1, with the schema's old id
  await call('POST', '/subjects/s/versions', { schema: v1 })
  assert.deepEqual((await call('GET', '/subjects/s/versions/latest')).body, { subject: 's', version: 1, id: 1, schema: v1 })
})

test('concurrent registrations of one schema make one version; of two compatible schemas, two', async () => {
  const r = await SchemaRegistry.open()
  const same = await Promise.all([r.register('s', { schema: v1 }), r.register('s', { schema: v1 }), r.register('s', { schema: v1 })])
  assert.deepEqual(same, [{ id: 1, version: 1 }, { id: 1, version: 1 }, { id: 1, version: 1 }])
  const two = await Promise.all([r.register('t', { schema: v1 }), r.register('t', { schema: v2 })])
  assert.deepEqual(two.map((x) => x.version), [1, 2])
  assert.deepEqual(r.versions('t'), [1, 2])
})

test('two registries on one folder: each change starts from what the folder holds, so neither loses the other', async (t) => {
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = await mkdtemp(join(tmpdir(), 'sluice-registry-two-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const a = await SchemaRegistry.open(dir)
  const b = await SchemaRegistry.open(dir)
  assert.deepEqual(await a.register('s', { schema: v1 }), { id: 1, version: 1 })
  assert.deepEqual(await b.register('t', { schema: v2 }), { id: 2, version: 1 })
  assert.deepEqual(await a.register('s', { schema: v2 }), { id: 2, version: 2 })
  const fresh = await SchemaRegistry.open(dir)
  assert.deepEqual([fresh.versions('s'), fresh.versions('t')], [[1, 2], [1]])
  await b.refresh()
  assert.deepEqual(b.versions('s'), [1, 2])
})
