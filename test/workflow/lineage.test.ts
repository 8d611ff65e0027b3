// Workflow lineage: every workflow run (one per partition) and task run emits OpenLineage events, and a
// pipeline that a task runs in-process names the task run as its parent and the workflow run as its root.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { pipeline, sink, source } from '../../src/index.ts'
import { openLineageSchema } from '../../src/lineage/spec-schema.ts'
import type { RunEvent } from '../../src/lineage/openlineage.ts'
import { fnTask, pipelineTask, Scheduler, staticPartitions, workflow, WorkflowStore, type WorkflowEvent } from '../../src/workflow/index.ts'
import { taskRun, workflowRun } from '../../src/workflow/lineage.ts'

const ajv = new Ajv2020({ strict: false, allErrors: true })
ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\S+$/i)
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/)
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
// strict: the spec's required fields and types, and Sluice's promise of documented fields and exact facet versions
const validate = ajv.compile(openLineageSchema({ strict: true }))
const read = (file: string): RunEvent[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunEvent)
type Parent = { run: { runId: string }; job: { name: string }; root?: { run: { runId: string }; job: { name: string } } }
const parentOf = (e: RunEvent): Parent | undefined => e.run.facets?.parent as Parent | undefined

test('workflow and task runs emit START and COMPLETE/FAIL; a pipeline task names its task run as parent and the workflow run as root', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-lineage-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const events = join(dir, 'lineage.ndjson')
  const wf = workflow('nightly', { partitions: staticPartitions(['eu', 'us']) })
    .task('load', pipelineTask(({ params }) => {
      const p = pipeline(`load-${params.partition}`)
      p.from(source.generator({ count: 20, make: (g) => ({ n: g.seq }) })).to(sink.blackhole())
      return p
    }))
    .task('check', fnTask((c) => { if (c.partition === 'us') throw new Error('us is short') }), { dependsOn: ['load'] })
    .build()
  const store = new WorkflowStore(':memory:')
  const s = new Scheduler(wf, { store, lineage: { transport: events } })
  s.materialize()
  const sum = await s.drain()
  assert.equal(sum.succeeded, 3)
  assert.equal(sum.failed, 1)

  const all = read(events)
  for (const e of all) assert.ok(validate(e), `${e.eventType} ${e.job.name} breaks the OpenLineage schema: ${ajv.errorsText(validate.errors)}`)
  const of = (job: string) => all.filter((e) => e.job.name === job)
  const eu = workflowRun('nightly', 'eu')
  const us = workflowRun('nightly', 'us')
  assert.deepEqual(of('nightly').filter((e) => e.run.runId === eu.runId).map((e) => e.eventType), ['START', 'COMPLETE'])
  const usEnd = of('nightly').filter((e) => e.run.runId === us.runId)
  assert.deepEqual(usEnd.map((e) => e.eventType), ['START', 'FAIL'])
  assert.match(String((usEnd[1]!.run.facets?.errorMessage as unknown as { message: string }).message), /check/)

  // task runs: the workflow run is their parent
  const loadEu = taskRun('nightly', 'load', 'eu', 1)
  const loadEvents = of('nightly.load').filter((e) => e.run.runId === loadEu.runId)
  assert.deepEqual(loadEvents.map((e) => e.eventType), ['START', 'COMPLETE'])
  assert.equal(parentOf(loadEvents[0]!)?.run.runId, eu.runId)
  assert.equal(parentOf(loadEvents[0]!)?.job.name, 'nightly')
  assert.deepEqual(of('nightly.check').map((e) => e.eventType).sort(), ['COMPLETE', 'FAIL', 'START', 'START'])

  // the in-process pipeline: parent the task run, root the workflow run
  const pipe = of('load-eu')
  assert.deepEqual(pipe.map((e) => e.eventType), ['START', 'COMPLETE'])
  for (const e of pipe) {
    assert.equal(parentOf(e)?.run.runId, loadEu.runId)
    assert.equal(parentOf(e)?.job.name, 'nightly.load')
    assert.equal(parentOf(e)?.root?.run.runId, eu.runId, 'the pipeline run names the workflow run')
    assert.equal(parentOf(e)?.root?.job.name, 'nightly')
  }
})

test('cancelling a running pipeline task stops the pipeline; task and workflow runs end with ABORT', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-lineage-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const events = join(dir, 'lineage.ndjson')
  const wf = workflow('forever')
    .task('stream', pipelineTask(() => {
      const p = pipeline('ticks')
      p.from(source.generator({ make: (g) => ({ n: g.seq }), ratePerSecond: 200 })).to(sink.blackhole())
      return p
    }), { retry: { retries: 2 } })
    .build()
  const seen: WorkflowEvent[] = []
  const store = new WorkflowStore(':memory:')
  const s = new Scheduler(wf, { store, lineage: { transport: events }, onEvent: (e) => seen.push(e) })
  s.materialize()
  const drained = s.drain()
  while (!seen.some((e) => e.type === 'run-started')) await new Promise((r) => setTimeout(r, 10))
  s.cancel([{ task: 'stream', partition: 'default' }])
  const sum = await drained
  assert.equal(sum.cancelled, 1)
  assert.deepEqual(store.history('forever').map((h) => h.outcome), ['cancelled'])
  const all = read(events)
  assert.deepEqual(all.filter((e) => e.job.name === 'forever').map((e) => e.eventType), ['START', 'ABORT'])
  assert.deepEqual(all.filter((e) => e.job.name === 'forever.stream').map((e) => e.eventType), ['START', 'ABORT'])
  const ticks = all.filter((e) => e.job.name === 'ticks').map((e) => e.eventType)
  assert.equal(ticks[0], 'START')
  assert.notEqual(ticks.at(-1), 'START', 'the pipeline ended before the cancel was recorded')
})

test('sluice workflow run --lineage: a pipeline run by `sluice run` in a shell task sends its events there, naming the task run and the workflow run', { timeout: 120_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-lineage-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const env = { ...process.env }
  delete env.SLUICE_LINEAGE
  const r = spawnSync(process.execPath, ['bin/sluice.js', 'workflow', 'run', 'test/workflow/fixtures/shell-pipeline.ts', '--store', join(dir, 'runs.db'), '--lineage', join(dir, 'lineage.ndjson')], { cwd: root, encoding: 'utf8', env, timeout: 120_000 })
  assert.equal(r.status, 0, r.stderr)
  const all = read(join(dir, 'lineage.ndjson'))
  for (const e of all) assert.ok(validate(e), `${e.eventType} ${e.job.name} breaks the OpenLineage schema: ${ajv.errorsText(validate.errors)}`)
  const pipe = all.filter((e) => e.job.name === 'tiny')
  assert.deepEqual(pipe.map((e) => e.eventType), ['START', 'COMPLETE'])
  for (const e of pipe) {
    assert.equal(parentOf(e)?.run.runId, taskRun('shelled', 'run-tiny', 'eu', 1).runId)
    assert.equal(parentOf(e)?.root?.run.runId, workflowRun('shelled', 'eu').runId)
  }
})
