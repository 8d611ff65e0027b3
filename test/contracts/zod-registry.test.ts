import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { contract, pipeline, run, sink, source, withContract, SluiceError } from '../../src/index.ts'
import { startRegistry } from '../../src/contracts/registry/server.ts'
import { SchemaRegistry } from '../../src/contracts/registry/registry.ts'
import { checkContracts } from '../../src/contracts/registry/contract-check.ts'

// zod writes JSON Schema 2020-12 (`$schema: https://json-schema.org/draft/2020-12/schema`). Strict objects are
// closed (`additionalProperties: false`), so a later version may add an optional field.
const schemas = {
  v1: z.strictObject({ auction: z.number().int(), price: z.number().int() }),
  v2: z.strictObject({ auction: z.number().int(), price: z.number().int(), channel: z.string().optional() }),
  breaking: z.strictObject({ auction: z.number().int(), price: z.string() }),
}
const bids = (v: keyof typeof schemas) => contract({ name: 'bids', schema: schemas[v] })

function producer(v: keyof typeof schemas) {
  const out = sink.collect<{ auction: number }>()
  const p = pipeline('zod-bids')
  p.from(withContract(source.collection([{ auction: 1, price: 10 }]), bids(v))).map((b) => ({ auction: b.auction })).to(out)
  return { p, out }
}

test('a zod contract is registered, looked up and checked through the HTTP API', async (t) => {
  const srv = await startRegistry({ port: 0 })
  t.after(() => srv.close())
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${srv.url}${path}`, { method, headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, body: await res.json() as any }
  }
  const v1 = bids('v1').schemaText
  assert.match(v1.schema, /"\$schema":"https:\/\/json-schema.org\/draft\/2020-12\/schema"/)
  assert.deepEqual(await call('POST', '/subjects/bids-value/versions', v1), { status: 200, body: { id: 1 } })
  assert.deepEqual((await call('POST', '/subjects/bids-value', v1)).body, { subject: 'bids-value', version: 1, id: 1, schemaType: 'JSON', schema: v1.schema })
  assert.deepEqual((await call('POST', '/compatibility/subjects/bids-value/versions/latest', bids('v2').schemaText)).body, { is_compatible: true })
  const verdict = (await call('POST', '/compatibility/subjects/bids-value/versions/latest?verbose=true', bids('breaking').schemaText)).body
  assert.equal(verdict.is_compatible, false)
  assert.match(verdict.messages.join('\n'), /price/)
  assert.equal((await call('POST', '/subjects/bids-value/versions', bids('breaking').schemaText)).status, 409)
  assert.deepEqual(await call('POST', '/subjects/bids-value/versions', bids('v2').schemaText), { status: 200, body: { id: 2 } })
  // z.object is open (it accepts other keys and drops them): a field added to it may clash with what old writers sent
  const open = (shape: z.ZodRawShape) => contract({ name: 'open', schema: z.object(shape) }).schemaText
  await call('POST', '/subjects/open-value/versions', open({ auction: z.number() }))
  const added = (await call('POST', '/compatibility/subjects/open-value/versions/latest?verbose=true', open({ auction: z.number(), channel: z.string().optional() }))).body
  assert.equal(added.is_compatible, false)
  assert.match(added.messages[0], /OPEN_WRITER at 'channel'/)
  // a dialect the registry does not know is refused as an invalid schema, not taken as draft-07
  const unknown = { schemaType: 'JSON', schema: JSON.stringify({ $schema: 'https://example.com/dialect', type: 'object' }) }
  assert.equal((await call('POST', '/subjects/other-value/versions', unknown)).body.error_code, 42201)
})

test('a run with a registry (URL or folder) registers its zod contracts and refuses a breaking change', async (t) => {
  const srv = await startRegistry({ port: 0 })
  const dir = await mkdtemp(join(tmpdir(), 'sluice-zod-registry-'))
  t.after(async () => {
    await srv.close()
    await rm(dir, { recursive: true, force: true })
  })
  for (const registry of [srv.url, dir]) {
    const first = producer('v1')
    assert.equal((await run(first.p, { registry })).status, 'finished')
    assert.deepEqual(first.out.values, [{ auction: 1 }])
    await run(producer('v1').p, { registry })
    assert.equal((await run(producer('v2').p, { registry })).status, 'finished')
    const breaking = producer('breaking')
    await assert.rejects(run(breaking.p, { registry }), (e: unknown) => {
      assert.ok(e instanceof SluiceError && e.code === 'SLUICE_CONTRACT_INCOMPATIBLE', String(e))
      assert.match(e.message, /contract 'bids' of step 'source-collection-1' \(subject bids-value\) is incompatible under BACKWARD/)
      return true
    })
    assert.deepEqual(breaking.out.values, [])
  }
  assert.deepEqual(srv.registry.versions('bids-value'), [1, 2])
  assert.deepEqual((await SchemaRegistry.open(dir)).versions('bids-value'), [1, 2])
})

test('sluice check --contracts --register (checkContracts) registers a zod contract and refuses a breaking one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-zod-check-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const check = (v: keyof typeof schemas, register: boolean) => checkContracts([{ step: 'read', contract: bids(v) }], dir, register)
  assert.deepEqual((await check('v1', true)).map((c) => [c.status, c.version]), [['registered', 1]])
  assert.deepEqual((await check('v1', false)).map((c) => [c.status, c.version]), [['registered', 1]])
  assert.deepEqual((await check('v2', false)).map((c) => c.status), ['compatible'])
  const breaking = await check('breaking', true)
  assert.equal(breaking[0].status, 'incompatible')
  assert.match(breaking[0].differences.join('\n'), /price/)
  assert.deepEqual((await SchemaRegistry.open(dir)).versions('bids-value'), [1])
})
