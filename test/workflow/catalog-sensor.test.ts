// The catalog freshness sensor against a catalog that a pipeline run fills: a workflow's pipeline task writes a
// dataset with lineage on, `sluice catalog ingest` takes the events into the catalog, and a sensor of another
// workflow holds once the catalog says the dataset was written late enough.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline, sink, source } from '../../src/index.ts'
import { Catalog } from '../../src/catalog/catalog.ts'
import { commands, main } from '../../src/cli/main.ts'
import { catalogFresherThan, daily, pipelineTask, Scheduler, sensorTask, VirtualClock, workflow, WorkflowStore, type SensorCheck } from '../../src/workflow/index.ts'

const DAY = '2026-01-01'

/** A downstream workflow of one partition whose only task is `check`; returns how its run ended. */
async function waitFor(check: SensorCheck): Promise<string | undefined> {
  const wf = workflow('report', { partitions: daily(DAY) }).task('wait-views', sensorTask(check, { pollMs: 60_000, timeoutMs: 300_000 }), { retry: { retries: 0 } }).build()
  const store = new WorkflowStore(':memory:')
  const s = new Scheduler(wf, { store, clock: new VirtualClock(Date.parse('2026-01-02T00:00Z')) })
  s.enqueue([DAY])
  await s.drain()
  return store.run('report', 'wait-views', DAY)?.status
}

test('catalogFresherThan holds once a pipeline run wrote the dataset, as the catalog learnt from lineage', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-catalog-sensor-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const catalogDir = join(dir, 'catalog')
  const views = join(dir, 'views.jsonl')
  writeFileSync(join(dir, 'raw.jsonl'), '{"page":"/"}\n{"page":"/a"}\n')
  const before = Date.now()
  const sensor = catalogFresherThan(views, { catalog: catalogDir, notBefore: () => before })

  // No catalog yet: the sensor waits, and does not create one.
  assert.equal(await waitFor(sensor), 'failed')
  assert.equal(Catalog.exists(catalogDir), false)

  // A workflow's pipeline task writes the dataset, with its lineage in a file, which the catalog ingests.
  const lineage = join(dir, 'lineage.ndjson')
  const producer = workflow('ingest-views', { partitions: daily(DAY) })
    .task('copy', pipelineTask(({ params }) => {
      const p = pipeline(`views-${params.partition}`)
      p.from(source.jsonl(join(dir, 'raw.jsonl'))).to(sink.jsonl(views))
      return p
    }))
    .build()
  const up = new Scheduler(producer, { store: new WorkflowStore(':memory:'), lineage: { transport: lineage } })
  up.enqueue([DAY])
  assert.equal((await up.drain()).succeeded, 1)
  const io = { write: () => true, isTTY: false }
  assert.equal(await main(['catalog', 'ingest', lineage, '--dir', catalogDir], { cwd: dir, env: process.env, commands, stdout: io, stderr: io } as never), 0)

  // Written after `before`: the sensor holds, by the dataset's name or its key, from the folder or an open catalog.
  assert.equal(await waitFor(sensor), 'succeeded')
  assert.equal(await waitFor(catalogFresherThan(`file:${views}`, { catalog: catalogDir, notBefore: () => before })), 'succeeded')
  const open = Catalog.open(catalogDir)
  t.after(() => open.close())
  assert.equal(await waitFor(catalogFresherThan(() => views, { catalog: open, notBefore: () => before })), 'succeeded')
  // Not written late enough, or another dataset: it waits.
  const written = Date.parse(open.dataset(views)!.lastWritten!)
  assert.equal(await waitFor(catalogFresherThan(views, { catalog: catalogDir, notBefore: () => written + 1 })), 'failed')
  assert.equal(await waitFor(catalogFresherThan(join(dir, 'raw.jsonl'), { catalog: catalogDir, notBefore: () => before })), 'failed', 'read, never written')
})
