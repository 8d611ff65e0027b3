import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { z } from 'zod'
import { agg, contract, expect, pipeline, privacy, run, sink, source, start, withContract, columns } from '../../src/index.ts'
import { OPENLINEAGE_SCHEMA, openLineageSchema } from '../../src/lineage/spec-schema.ts'
import { FACET_VERSIONS, type RunEvent } from '../../src/lineage/openlineage.ts'

const ajv = new Ajv2020({ strict: false, allErrors: true })
ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\S+$/i)
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/)
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
const validate = ajv.compile(OPENLINEAGE_SCHEMA)
const validateStrict = ajv.compile(openLineageSchema({ strict: true }))

/** An event conforms to the spec, and keeps Sluice's stricter promise (documented fields and values, exact versions). */
function valid(e: RunEvent): void {
  assert.ok(validate(e), `${e.eventType} event breaks the OpenLineage schema: ${ajv.errorsText(validate.errors)}`)
  assert.ok(validateStrict(e), `${e.eventType} event breaks Sluice's strict reading of the schema: ${ajv.errorsText(validateStrict.errors)}`)
}
const read = (file: string): RunEvent[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunEvent)
const MARKER = 'MARKER-PII-7731'

const customers = contract({
  name: 'customers',
  owner: 'crm',
  personal: ['email', 'card'],
  schema: z.object({ id: z.number().int(), email: z.string(), card: z.string(), country: z.string(), spend: z.number() }),
  rules: [{ field: 'spend', rule: 'inRange', min: 0 }],
})

function input(dir: string): string {
  const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: i, email: `${MARKER}-${i}@example.com`, card: `4111-1111-1111-${1000 + i}`, country: i % 2 === 0 ? 'fr' : 'de', spend: i === 3 ? -1 : i * 10 }))
  writeFileSync(join(dir, 'customers.jsonl'), rows.join('\n') + '\n')
  return join(dir, 'customers.jsonl')
}

test('a batch run emits START and COMPLETE with datasets, schema, column lineage with masking, statistics and quality', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lineage-'))
  const events = join(dir, 'lineage.ndjson')
  const p = pipeline('customer-spend', { onError: 'skip' })
  const masked = p
    .from(withContract(source.jsonl(input(dir)), customers))
    .filter((c) => c.country !== 'xx')
    .map(privacy.protect({ email: privacy.mask(), card: privacy.mask({ keepLast: 4 }) }))
    .id('protect')
    .expect([expect.notNull('email'), expect.inRange('spend', { max: 100 })])
  masked.map((c) => ({ id: c.id, contact: c.email, total: c.spend * 1.2 })).to(sink.jsonl(join(dir, 'out.jsonl')))
  masked.keyBy((c) => c.country).aggregate(agg.sum((c: { spend: number }) => c.spend)).to(sink.jsonl(join(dir, 'by-country.jsonl')))
  await run(p, { lineage: { transport: events, owner: 'growth', nominalTime: { start: 0 } }, module: join(dir, 'pipeline.ts') })

  const all = read(events)
  assert.deepEqual(all.map((e) => e.eventType), ['START', 'COMPLETE'])
  for (const e of all) valid(e)
  assert.equal(all[0].run.runId, all[1].run.runId)
  const done = all[1]
  assert.equal(done.job.name, 'customer-spend')
  assert.equal(done.job.facets?.jobType.processingType, 'BATCH')
  assert.deepEqual(done.job.facets?.ownership.owners, [{ name: 'growth', type: 'team' }])
  assert.match(String(done.job.facets?.sourceCodeLocation.url), /^file:\/\/.*pipeline\.ts$/)
  assert.equal(done.run.facets?.nominalTime.nominalStartTime, '1970-01-01T00:00:00.000Z')

  const [inp] = done.inputs
  assert.deepEqual({ namespace: inp.namespace, name: inp.name }, { namespace: 'file', name: join(dir, 'customers.jsonl') })
  assert.deepEqual((inp.facets?.schema.fields as { name: string }[]).map((f) => f.name), ['id', 'email', 'card', 'country', 'spend'])
  assert.deepEqual(inp.facets?.ownership.owners, [{ name: 'crm', type: 'team' }])
  const assertions = inp.inputFacets?.dataQualityAssertions.assertions as { assertion: string; success: boolean; column?: string }[]
  assert.deepEqual(assertions.find((a) => a.assertion === 'contract inRange'), { assertion: 'contract inRange', success: false, column: 'spend' })
  assert.equal(assertions.find((a) => a.assertion === 'email:notNull')?.success, true)
  assert.equal(assertions.find((a) => a.assertion === 'spend:inRange')?.success, false)
  assert.equal(inp.inputFacets?.dataQualityMetrics.rowCount, 39)

  const out = done.outputs.find((o) => o.name.endsWith('out.jsonl'))!
  const cl = out.facets?.columnLineage.fields as Record<string, { inputFields: { field: string; transformations: { type: string; subtype: string; masking: boolean }[] }[] }>
  assert.deepEqual(cl.id.inputFields.map((f) => [f.field, f.transformations[0].subtype, f.transformations[0].masking]), [['id', 'IDENTITY', false]])
  assert.deepEqual(cl.contact.inputFields.map((f) => [f.field, f.transformations[0].subtype, f.transformations[0].masking]), [['email', 'TRANSFORMATION', true]])
  assert.deepEqual(cl.total.inputFields.map((f) => [f.field, f.transformations[0].subtype]), [['spend', 'TRANSFORMATION']])
  const indirect = out.facets?.columnLineage.dataset as { field: string; transformations: { subtype: string }[] }[]
  assert.deepEqual(indirect.map((d) => [d.field, d.transformations[0].subtype]), [['country', 'FILTER']])
  assert.equal(out.outputFacets?.outputStatistics.rowCount, 39)

  const byCountry = done.outputs.find((o) => o.name.endsWith('by-country.jsonl'))!
  const agg2 = byCountry.facets?.columnLineage.fields as typeof cl
  assert.deepEqual(agg2.key.inputFields.map((f) => [f.field, f.transformations[0].subtype]), [['country', 'IDENTITY']])
  assert.deepEqual(agg2.value.inputFields.map((f) => [f.field, f.transformations[0].subtype]), [['spend', 'AGGREGATION']])
  assert.ok((byCountry.facets?.columnLineage.dataset as { field: string; transformations: { subtype: string }[] }[]).some((d) => d.field === 'country' && d.transformations[0].subtype === 'GROUP_BY'))

  assert.ok(!readFileSync(events, 'utf8').includes(MARKER), 'no personal value in lineage')
})

test('a failed run emits FAIL with the error message; a declared mapping is used as declared', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lineage-'))
  const events = join(dir, 'lineage.ndjson')
  const p = pipeline('fails', { lineage: events })
  p.from(source.jsonl<{ id: number; email: string }>(input(dir)))
    .map(columns((c) => ({ who: c.email.length > 3 ? c.id : -1 }), { who: ['id', 'email'] }))
    .map((c) => {
      if (c.who === 5) throw new Error(`bad record ${MARKER}`)
      return c
    })
    .to(sink.jsonl(join(dir, 'out.jsonl')))
  await assert.rejects(run(p))
  const all = read(events)
  assert.deepEqual(all.map((e) => e.eventType), ['START', 'FAIL'])
  for (const e of all) valid(e)
  assert.match(String(all[1].run.facets?.errorMessage.message), /SLUICE_/)
  const cl = all[1].outputs[0].facets?.columnLineage.fields as Record<string, { inputFields: { field: string }[] }>
  assert.deepEqual(cl.who.inputFields.map((f) => f.field), ['id', 'email'])
  assert.ok(!readFileSync(events, 'utf8').includes(MARKER))
})

test('a streaming job emits RUNNING periodically and ABORT when cancelled; the parent run is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lineage-'))
  const got: RunEvent[] = []
  let running!: () => void
  const sawRunning = new Promise<void>((r) => (running = r))
  const p = pipeline('endless')
  p.from(source.generator({ ratePerSecond: 1000, make: (g) => ({ i: g.seq }) })).to(sink.log(join(dir, 'log'), 'numbers'))
  const parent = { runId: '3f1c2b2e-8d5a-4d3e-9f5b-1a2b3c4d5e6f', job: { namespace: 'workflows', name: 'nightly.load' } }
  const job = start(p, {
    lineage: {
      transport: { describe: 'memory', send: async (e) => { got.push(e); if (e.eventType === 'RUNNING') running() } },
      parent,
      runningIntervalMs: 20,
    },
  })
  await sawRunning
  await job.cancel()
  await new Promise((r) => setTimeout(r, 50))
  for (const e of got) valid(e)
  assert.equal(got[0].eventType, 'START')
  assert.ok(got.some((e) => e.eventType === 'RUNNING'))
  assert.equal(got.at(-1)?.eventType, 'ABORT')
  assert.equal(got[0].job.facets?.jobType.processingType, 'STREAMING')
  assert.deepEqual(got[0].run.facets?.parent.job, parent.job)
  assert.deepEqual({ namespace: got[0].outputs[0].namespace, name: got[0].outputs[0].name }, { namespace: `sluice-log://${join(dir, 'log')}`, name: 'numbers' })
})

test('the HTTP transport posts each event to /api/v1/lineage, as Marquez takes them', async () => {
  const { createServer } = await import('node:http')
  const got: { url: string; body: RunEvent }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      got.push({ url: req.url ?? '', body: JSON.parse(body) as RunEvent })
      res.writeHead(201).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  try {
    const p = pipeline('posted')
    p.from(source.collection([{ a: 1 }])).to(sink.collect())
    await run(p, { lineage: `http://127.0.0.1:${port}` })
  } finally {
    server.close()
  }
  assert.deepEqual(got.map((g) => [g.url, g.body.eventType]), [['/api/v1/lineage', 'START'], ['/api/v1/lineage', 'COMPLETE']])
  for (const g of got) valid(g.body)
})

test('a join: output fields come from the left or the right input, the key fields of both sides are JOIN', async () => {
  const { columnLineage } = await import('../../src/lineage/column-lineage.ts')
  const p = pipeline('joined')
  const bids = p.from(source.jsonl<{ auction: number; bidder: string; price: number }>('/in/bids.jsonl')).keyBy((b) => b.auction)
  const auctions = p.from(source.jsonl<{ id: number; seller: string; reserve: number }>('/in/auctions.jsonl')).keyBy((a) => a.id)
  bids.join(auctions, { ttl: '1h' }, (b, a) => ({ auction: b.auction, seller: a.seller, margin: b.price - a.reserve })).to(sink.jsonl('/out/joined.jsonl'))
  const cols = [...columnLineage(p.nodes).bySink.values()][0]
  const deps = (f: string) => cols.fields.get(f)!.map((d) => [d.name, d.field, d.transformation.subtype])
  assert.deepEqual(deps('auction'), [['/in/bids.jsonl', 'auction', 'IDENTITY']])
  assert.deepEqual(deps('seller'), [['/in/auctions.jsonl', 'seller', 'IDENTITY']])
  assert.deepEqual(deps('margin'), [['/in/bids.jsonl', 'price', 'TRANSFORMATION'], ['/in/auctions.jsonl', 'reserve', 'TRANSFORMATION']])
  assert.deepEqual(cols.indirect.map((d) => [d.name, d.field, d.transformation.type, d.transformation.subtype]).sort(), [['/in/auctions.jsonl', 'id', 'INDIRECT', 'JOIN'], ['/in/bids.jsonl', 'auction', 'INDIRECT', 'JOIN']])
})

test('a declared mapping is checked against the probe: a field the function uses that the declaration leaves out is a warning', async () => {
  const { columnLineage } = await import('../../src/lineage/column-lineage.ts')
  const p = pipeline('declared')
  p.from(source.jsonl<{ id: number; price: number; qty: number; note: string }>('/in/orders.jsonl'))
    .map(columns((o) => ({ id: o.id, total: o.price * o.qty, label: `${o.note}` }), { id: 'id', total: ['price'] }))
    .to(sink.jsonl('/out/orders.jsonl'))
  const r = columnLineage(p.nodes)
  assert.deepEqual(r.warnings.sort(), [
    "step 'map-1' declares no lineage for output field 'label'",
    "step 'map-1': output field 'total' also uses input field 'qty', which its declared lineage leaves out",
  ])
  // the declaration is what lineage reports
  const cols = [...r.bySink.values()][0]
  assert.deepEqual(cols.fields.get('total')!.map((d) => d.field), ['price'])
  assert.deepEqual(r.opaque, [])
})

test('what column lineage cannot know is a warning of the run: a declaration that leaves fields out, a function that throws on stand-ins', async () => {
  const p = pipeline('unknowable')
  p.from(source.collection([{ id: 1, card: '4111111111111111', qty: 2, price: 3 }]))
    .map((r) => {
      if (r.card.length < 12) throw new Error('too short')
      return r
    })
    .id('validate')
    .map(columns((o) => ({ id: o.id, total: o.price * o.qty }), { id: 'id', total: ['price'] }))
    .id('totals')
    .to(sink.collect())
  const summary = await run(p, { lineage: { transport: { describe: 'memory', send: async () => {} } } })
  assert.deepEqual(summary.warnings?.filter((w) => w.startsWith('lineage:')), [
    "lineage: step 'validate' could not be probed (its function throws on stand-in records, or is a process function); the columns after it are unknown: declare them with columns()",
    "lineage: step 'totals': output field 'total' also uses input field 'qty', which its declared lineage leaves out",
  ])
  const quiet = pipeline('no-lineage')
  quiet.from(source.collection([{ card: '4111111111111111' }])).map((r) => {
    if (r.card.length < 12) throw new Error('too short')
    return r
  }).to(sink.collect())
  assert.deepEqual((await run(quiet)).warnings?.filter((w) => w.startsWith('lineage:')) ?? [], [], 'no lineage, no lineage warnings')
})

test('the schema rejects a malformed facet: a missing required field, a wrong type, another facet under the key, an unknown version when strict', async () => {
  const got: RunEvent[] = []
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lineage-'))
  const p = pipeline('malformed', { onError: 'skip' })
  p.from(withContract(source.jsonl(input(dir)), customers))
    .map((c) => ({ id: c.id, contact: c.email }))
    .to(sink.jsonl(join(dir, 'out.jsonl')))
  await run(p, { lineage: { transport: { describe: 'memory', send: async (e) => void got.push(e) }, owner: 'growth', nominalTime: { start: 0 }, parent: { runId: '3f1c2b2e-8d5a-4d3e-9f5b-1a2b3c4d5e6f', job: { namespace: 'w', name: 'n' } } } })
  const done = got.at(-1)!
  valid(done)
  // every facet key Sluice emits, so each breakage below reaches a facet that is there
  const keys = (f: Record<string, unknown> | undefined) => Object.keys(f ?? {}).sort()
  assert.deepEqual(keys(done.job.facets), ['jobType', 'ownership'])
  assert.deepEqual(keys(done.run.facets), ['nominalTime', 'parent', 'processing_engine'])
  assert.deepEqual(keys(done.inputs[0].facets), ['dataSource', 'ownership', 'schema', 'tags'])
  assert.deepEqual(keys(done.inputs[0].inputFacets), ['dataQualityAssertions', 'dataQualityMetrics'])
  assert.deepEqual(keys(done.outputs[0].facets), ['columnLineage', 'dataSource', 'schema'])
  assert.deepEqual(keys(done.outputs[0].outputFacets), ['outputStatistics'])
  assert.deepEqual(done.inputs[0].facets?.tags.tags, [{ key: 'classification', value: 'personal', source: 'CONTRACT', field: 'email' }, { key: 'classification', value: 'personal', source: 'CONTRACT', field: 'card' }])

  const broken = (why: string, change: (e: RunEvent) => void, only: 'strict' | 'both' = 'both') => {
    const e = structuredClone(done)
    change(e)
    assert.equal(validateStrict(e), false, `strict schema accepts an event whose ${why}`)
    if (only === 'both') assert.equal(validate(e), false, `schema accepts an event whose ${why}`)
  }
  const cl = (e: RunEvent) => e.outputs[0].facets!.columnLineage as unknown as { fields: Record<string, { inputFields: Record<string, unknown>[] }> }
  broken('column lineage field has no inputFields', (e) => delete (cl(e).fields.contact as Partial<{ inputFields: unknown }>).inputFields)
  broken('column lineage input field has no namespace', (e) => delete cl(e).fields.contact.inputFields[0].namespace)
  broken('column lineage facet has no fields', (e) => delete (cl(e) as Partial<{ fields: unknown }>).fields)
  broken('masking flag is a string', (e) => ((cl(e).fields.contact.inputFields[0].transformations as Record<string, unknown>[])[0].masking = 'yes'))
  broken('jobType facet has no integration', (e) => delete e.job.facets!.jobType.integration)
  broken('processing_engine facet has no version', (e) => delete e.run.facets!.processing_engine.version)
  broken('parent run id is not a UUID', (e) => ((e.run.facets!.parent.run as { runId: string }).runId = 'run-1'))
  broken('nominal start time is missing', (e) => delete e.run.facets!.nominalTime.nominalStartTime)
  broken('schema field has no name', (e) => delete (e.inputs[0].facets!.schema.fields as Record<string, unknown>[])[0].name)
  broken('tag has no value', (e) => delete (e.inputs[0].facets!.tags.tags as Record<string, unknown>[])[0].value)
  broken('assertion has no success', (e) => delete (e.inputs[0].inputFacets!.dataQualityAssertions.assertions as Record<string, unknown>[])[0].success)
  broken('quality metrics have no columnMetrics', (e) => delete e.inputs[0].inputFacets!.dataQualityMetrics.columnMetrics)
  broken('row count is a string', (e) => (e.outputs[0].outputFacets!.outputStatistics.rowCount = '39'))
  broken('owner has no name', (e) => delete (e.job.facets!.ownership.owners as Record<string, unknown>[])[0].name)
  broken('facet has no _producer', (e) => delete (e.inputs[0].facets!.dataSource as Partial<{ _producer: string }>)._producer)
  broken('errorMessage facet has no programmingLanguage', (e) => (e.run.facets!.errorMessage = { _producer: done.producer, _schemaURL: 'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet', message: 'x' }))
  broken('schema facet names the column lineage facet file', (e) => (e.inputs[0].facets!.schema._schemaURL = done.outputs[0].facets!.columnLineage._schemaURL))
  broken('facet names a version Sluice does not follow', (e) => (e.outputs[0].facets!.columnLineage._schemaURL = 'https://openlineage.io/spec/facets/1-0-1/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet'), 'strict')
  broken('facet carries an undocumented field', (e) => (e.outputs[0].outputFacets!.outputStatistics.rows = 39), 'strict')
  broken('transformation type is not DIRECT or INDIRECT', (e) => ((cl(e).fields.contact.inputFields[0].transformations as Record<string, unknown>[])[0].type = 'COPY'), 'strict')
})

test('every facet Sluice emits names a facet file of the spec at a published version', () => {
  // Versions of each facet file openlineage.io publishes (spec/facets/<version>/<Facet>.json), as the spec's
  // files and the official clients name them; only versions seen there are listed.
  const published: Record<string, readonly string[]> = {
    JobTypeJobFacet: ['2-0-2', '2-0-3', '2-0-4'],
    SourceCodeLocationJobFacet: ['1-0-1'],
    OwnershipJobFacet: ['1-0-0', '1-0-1'],
    ProcessingEngineRunFacet: ['1-0-0', '1-1-0', '1-1-1'],
    NominalTimeRunFacet: ['1-0-1'],
    ParentRunFacet: ['1-1-0', '1-2-0'],
    ErrorMessageRunFacet: ['1-0-1'],
    SchemaDatasetFacet: ['1-0-0', '1-1-1', '1-2-0'],
    DatasourceDatasetFacet: ['1-0-0', '1-0-1'],
    ColumnLineageDatasetFacet: ['1-0-1', '1-0-2', '1-1-0', '1-2-0'],
    OwnershipDatasetFacet: ['1-0-1'],
    DocumentationDatasetFacet: ['1-1-0'],
    TagsDatasetFacet: ['1-0-0'],
    DataQualityMetricsInputDatasetFacet: ['1-0-3'],
    DataQualityAssertionsDatasetFacet: ['1-0-0', '1-0-1'],
    OutputStatisticsOutputDatasetFacet: ['1-0-2'],
  }
  assert.deepEqual(Object.keys(FACET_VERSIONS).sort(), Object.keys(published).sort())
  for (const [name, version] of Object.entries(FACET_VERSIONS)) assert.ok(published[name].includes(version), `${name} ${version} is not a published version`)
})
