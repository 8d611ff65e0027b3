import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { contract, pipeline, run, sink, source, withContract, SluiceError } from '../../src/index.ts'
import { SchemaRegistry } from '../../src/contracts/registry/registry.ts'

const versions = {
  v1: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }],
  v2: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }],
  breaking: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'string' }, { name: 'channel', type: 'string' }],
} as const

/** A producer of bids under contract version `v`, writing totals under a contract of its own. */
function producer(v: keyof typeof versions, options: { registry?: string } = {}) {
  const bids = contract({ name: 'bids', schema: { type: 'record', name: 'Bid', fields: versions[v] } })
  const totals = contract({ name: 'totals', schema: { type: 'object', properties: { auction: { type: 'integer' } }, required: ['auction'] } })
  const out = sink.collect<{ auction: number }>()
  const p = pipeline('bids-producer', options)
  p.from(withContract(source.collection([{ auction: 1, price: 10, channel: 'web' }]), bids)).map((b) => ({ auction: b.auction })).to(withContract(out, totals))
  return { p, out }
}

test('a run registers new compatible versions of its contracts and refuses an incompatible one with the breaking differences', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-run-registers-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const subjects = async () => {
    const r = await SchemaRegistry.open(dir)
    return Object.fromEntries(r.subjects().map((s) => [s, r.versions(s)]))
  }

  const first = producer('v1')
  assert.equal((await run(first.p, { registry: dir })).status, 'finished')
  assert.deepEqual(await subjects(), { 'bids-value': [1], 'totals-value': [1] })

  // the same schemas again: nothing new; then a compatible change (a field with a default) from the pipeline's option
  await run(producer('v1').p, { registry: dir })
  await run(producer('v2', { registry: dir }).p)
  assert.deepEqual(await subjects(), { 'bids-value': [1, 2], 'totals-value': [1] })

  const breaking = producer('breaking')
  await assert.rejects(run(breaking.p, { registry: dir }), (e: unknown) => {
    assert.ok(e instanceof SluiceError && e.code === 'SLUICE_CONTRACT_INCOMPATIBLE', String(e))
    assert.match(e.message, /contract 'bids' of step 'source-collection-1' \(subject bids-value\) is incompatible under BACKWARD:\n {2}- TYPE_MISMATCH at 'price': reading data of version 2/)
    return true
  })
  assert.deepEqual(breaking.out.values, [], 'the run did not start')
  assert.deepEqual(await subjects(), { 'bids-value': [1, 2], 'totals-value': [1] })
})

test('a registry that cannot be reached stops the start with SLUICE_REGISTRY_UNAVAILABLE', async () => {
  await assert.rejects(run(producer('v1').p, { registry: 'http://127.0.0.1:9/' }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_REGISTRY_UNAVAILABLE' && e.domain === 'external')
})
