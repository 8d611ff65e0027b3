import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { contract, pipeline, privacy, run, sink, source, withContract } from '../../src/index.ts'
import { Catalog, catalogApi } from '../../src/catalog/index.ts'
import type { RunEvent } from '../../src/lineage/openlineage.ts'
import { fileTransport } from '../../src/lineage/transport.ts'
import { closedSegments } from '../../src/lineage/segments.ts'
import { main } from '../../src/cli/main.ts'

const people = contract({ name: 'people', owner: 'crm', personal: ['email'], schema: z.object({ id: z.number(), email: z.string(), city: z.string() }) })

async function twoJobs(dir: string): Promise<RunEvent[]> {
  const events: RunEvent[] = []
  const transport = { describe: 'memory', send: async (e: RunEvent) => void events.push(e) }
  writeFileSync(join(dir, 'people.jsonl'), '{"id":1,"email":"a@x.org","city":"Lyon"}\n{"id":2,"email":"b@x.org","city":"Nice"}\n')
  const a = pipeline('mask-people')
  a.from(withContract(source.jsonl(join(dir, 'people.jsonl')), people)).map(privacy.protect({ email: privacy.redact() })).to(sink.jsonl(join(dir, 'masked.jsonl')))
  await run(a, { lineage: { transport, owner: 'privacy-team' } })
  const b = pipeline('cities')
  b.from(source.jsonl<{ city: string }>(join(dir, 'masked.jsonl'))).map((p) => ({ city: p.city })).to(sink.jsonl(join(dir, 'cities.jsonl')))
  await run(b, { lineage: { transport } })
  return events
}

test('the catalog knows datasets and jobs from lineage and contracts, searches them, follows lineage and keeps them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-catalog-'))
  const events = await twoJobs(dir)
  const catalog = Catalog.open(join(dir, 'catalog'))
  for (const e of events) catalog.ingestEvent(e)
  const src = `file:${join(dir, 'people.jsonl')}`
  const masked = `file:${join(dir, 'masked.jsonl')}`
  const cities = `file:${join(dir, 'cities.jsonl')}`
  assert.deepEqual(catalog.datasets().map((d) => d.key).sort(), [cities, masked, src].sort())
  const people1 = catalog.dataset(src)!
  assert.equal(people1.owner, 'crm')
  assert.deepEqual(people1.personal, ['email'])
  assert.deepEqual(people1.versions.map((v) => v.fields), [['id', 'email', 'city']])
  assert.ok(people1.lastRead !== undefined)
  assert.deepEqual(catalog.search({ tag: 'personal' }).map((d) => d.key), [src])
  assert.deepEqual(catalog.search({ field: 'city' }).map((d) => d.key).sort(), [cities, masked, src].sort())
  assert.deepEqual(catalog.search({ text: 'masked' }).map((d) => d.key), [masked])
  assert.deepEqual(catalog.lineage(cities), { upstream: [masked, src].sort(), downstream: [] })
  assert.deepEqual(catalog.lineage(src), { upstream: [], downstream: [cities, masked].sort() })
  const job = catalog.job('mask-people')!
  assert.equal(job.lastRun?.state, 'completed')
  assert.deepEqual(job.owners, ['privacy-team'])
  assert.equal(job.type, 'BATCH')
  assert.ok(catalog.dataset(masked)!.lastWritten !== undefined)

  // a new contract version of a catalogued dataset adds a schema version
  catalog.ingestContract({ ...people, version: 2, schemaText: { schemaType: 'JSON', schema: JSON.stringify({ type: 'object', properties: { id: { type: 'number' }, email: { type: 'string' }, city: { type: 'string' }, phone: { type: 'string' } } }) }, personal: ['email', 'phone'] }, undefined, { namespace: 'file', name: join(dir, 'people.jsonl') })
  catalog.close()

  const again = Catalog.open(join(dir, 'catalog'))
  const people2 = again.dataset(src)!
  assert.deepEqual(people2.versions.map((v) => v.version), [1, 2])
  assert.deepEqual(people2.personal, ['email', 'phone'])
  const api = catalogApi(again, new URL(`http://h/api/catalog/datasets/${encodeURIComponent(cities)}`))!
  assert.equal(api.status, 200)
  assert.deepEqual((api.body as { upstream: string[] }).upstream, [masked, src].sort())
  assert.equal(catalogApi(again, new URL('http://h/api/catalog/datasets?tag=personal'))!.status, 200)
  assert.equal(catalogApi(again, new URL('http://h/api/catalog/jobs/nope'))!.status, 404)
  assert.deepEqual((catalogApi(again, new URL('http://h/api/catalog/jobs?q=MASK-P'))!.body as { name: string }[]).map((j) => j.name), ['mask-people'])
  assert.deepEqual(again.searchJobs('cities.jsonl').map((j) => j.name), ['cities'], 'a job by a dataset it writes')
  assert.equal((catalogApi(again, new URL('http://h/api/catalog/graph'))!.body as { edges: unknown[] }).edges.length, 4)
  again.close()
})

test('sluice catalog ingests a lineage file and lists, filters and shows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-catalog-'))
  const events = await twoJobs(dir)
  writeFileSync(join(dir, 'events.ndjson'), events.map((e) => JSON.stringify(e)).join('\n') + '\n')
  const out: string[] = []
  const err: string[] = []
  const { commands } = await import('../../src/cli/main.ts')
  const ctx = { cwd: dir, env: process.env, commands, stdout: { write: (s: string) => out.push(s), isTTY: false }, stderr: { write: (s: string) => err.push(s), isTTY: false } }
  assert.equal(await main(['catalog', 'ingest', 'events.ndjson'], ctx as never), 0)
  assert.match(err.join(''), /4 lineage events/)
  assert.equal(await main(['catalog', '--tag', 'personal', '--json'], ctx as never), 0)
  assert.deepEqual((JSON.parse(out.pop()!) as { datasets: { name: string }[] }).datasets.map((d) => d.name), [join(dir, 'people.jsonl')])
  assert.equal(await main(['catalog', '--search', 'cities', '--json'], ctx as never), 0)
  const found = JSON.parse(out.pop()!) as { datasets: { name: string }[]; jobs: { name: string }[] }
  assert.deepEqual([found.datasets.map((d) => d.name), found.jobs.map((j) => j.name)], [[join(dir, 'cities.jsonl')], ['cities']], 'a search by name finds datasets and jobs')
  assert.equal(await main(['catalog', 'show', 'mask-people'], ctx as never), 0)
  assert.match(out.pop()!, /last run  completed/)
})

test('sluice catalog ingest reads a segmented lineage log whole: its closed segments in order, then the file being written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-catalog-'))
  const events = await twoJobs(dir)
  let t = 0
  // A segment per event: the log is spread over closed segments and the file being written.
  const file = fileTransport(join(dir, 'events.ndjson'), { segment: 1, now: () => (t += 10) })
  for (const e of events) await file.send(e)
  assert.equal(closedSegments(join(dir, 'events.ndjson')).length, events.length - 1)
  const err: string[] = []
  const { commands } = await import('../../src/cli/main.ts')
  const ctx = { cwd: dir, env: process.env, commands, stdout: { write: () => true, isTTY: false }, stderr: { write: (s: string) => err.push(s), isTTY: false } }
  assert.equal(await main(['catalog', 'ingest', 'events.ndjson'], ctx as never), 0)
  assert.match(err.join(''), /4 lineage events/)
  const catalog = Catalog.open(join(dir, '.sluice', 'catalog'))
  try {
    assert.deepEqual(catalog.lineage(`file:${join(dir, 'cities.jsonl')}`).upstream, [`file:${join(dir, 'masked.jsonl')}`, `file:${join(dir, 'people.jsonl')}`].sort())
    assert.equal(catalog.jobs().find((j) => j.name === 'cities')?.lastRun?.state, 'completed')
  } finally {
    catalog.close()
  }
})
