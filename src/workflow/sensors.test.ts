import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { VirtualClock } from './clock.ts'
import { daily, staticPartitions } from './partitions.ts'
import { Scheduler, type WorkflowEvent } from './scheduler.ts'
import { fileExists, fresherThan, sensorTask, upstreamSucceeded } from './sensors.ts'
import { objectExists } from './object-sensor.ts'
import type { TaskContext } from './task.ts'
import { WorkflowStore } from './store.ts'
import { fnTask } from './task.ts'
import { workflow } from './workflow.ts'

const T0 = Date.parse('2026-01-02T00:00Z')

test('a sensor polls on the scheduler clock until its check holds, then its downstream runs', async () => {
  let polls = 0
  const ran: number[] = []
  const clock = new VirtualClock(T0)
  const wf = workflow('w')
    .task('wait', sensorTask(() => ++polls === 3, { pollMs: 60_000 }))
    .task('after', fnTask(() => void ran.push(clock.now())), { dependsOn: ['wait'] })
    .build()
  const s = new Scheduler(wf, { store: new WorkflowStore(':memory:'), clock })
  s.materialize()
  assert.equal((await s.drain()).succeeded, 2)
  assert.deepEqual(ran, [T0 + 120_000])
})

test('fileExists waits for the partition\'s file, then its downstream runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-sensor-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const clock = new VirtualClock(T0)
  let polls = 0
  const ran: string[] = []
  const wf = workflow('w', { partitions: staticPartitions(['eu', 'us']) })
    .task('wait-drop', sensorTask((c) => {
      // the 'eu' file lands after the third look; the 'us' one never does
      if (c.partition === 'eu' && ++polls === 3) writeFileSync(join(dir, 'eu.jsonl'), '')
      return fileExists(({ partition }) => join(dir, `${partition}.jsonl`))(c)
    }, { pollMs: 60_000, timeoutMs: 600_000 }))
    .task('load', fnTask((c) => void ran.push(c.partition)), { dependsOn: ['wait-drop'] })
    .build()
  const store = new WorkflowStore(':memory:')
  const s = new Scheduler(wf, { store, clock })
  s.materialize()
  const sum = await s.drain()
  assert.deepEqual(ran, ['eu'])
  assert.equal(store.run('w', 'wait-drop', 'eu')?.status, 'succeeded')
  assert.equal(store.run('w', 'load', 'us')?.status, 'upstream_failed')
  assert.equal(sum.failed, 1)
})

test('a sensor that never holds fails after its timeout and blocks its downstream', async () => {
  const wf = workflow('w').task('wait', sensorTask(() => false, { pollMs: 60_000, timeoutMs: 600_000 })).task('after', fnTask(() => {}), { dependsOn: ['wait'] }).build()
  const store = new WorkflowStore(':memory:')
  const s = new Scheduler(wf, { store, clock: new VirtualClock(T0) })
  s.materialize()
  const sum = await s.drain()
  assert.equal(sum.failed, 1)
  assert.equal(sum.upstream_failed, 1)
  assert.match(store.run('w', 'wait', 'default')!.error!, /SLUICE_WORKFLOW_SENSOR_TIMEOUT/)
})

test('an upstream workflow partition sensor and a freshness sensor', async () => {
  const store = new WorkflowStore(':memory:')
  const clock = new VirtualClock(T0)
  const upstream = workflow('up', { partitions: daily('2026-01-01') }).task('publish', fnTask(() => {})).build()
  let updatedAt = 0
  const down = workflow('down', { partitions: daily('2026-01-01') })
    .task('wait-up', sensorTask(upstreamSucceeded('up', 'publish'), { pollMs: 1000, timeoutMs: 5000 }))
    .task('wait-fresh', sensorTask(fresherThan(() => updatedAt), { pollMs: 1000, timeoutMs: 5000 }))
    .build()
  const d = new Scheduler(down, { store, clock })
  d.materialize()
  assert.equal((await d.drain()).failed, 2, 'nothing upstream yet, and the dataset is older than the partition end')
  const u = new Scheduler(upstream, { store, clock })
  u.materialize()
  await u.drain()
  updatedAt = Date.parse('2026-01-02T00:00Z')
  d.enqueue(['2026-01-01'])
  store.setStatus('down', down.tasks.map((t) => ({ task: t.name, partition: '2026-01-01' })), 'pending', ['failed'], clock.now())
  assert.equal((await d.drain()).succeeded, 2)
})

test('a run that misses its SLA raises one sla-missed event, also after a restart', async () => {
  const store = new WorkflowStore(':memory:')
  const clock = new VirtualClock(T0)
  const events: WorkflowEvent[] = []
  const wf = workflow('w', { partitions: staticPartitions(['x', 'y']) })
    .task('slow', fnTask((c) => (c.partition === 'x' ? c.sleep(600_000) : undefined)), { slaMs: 300_000 })
    .build()
  const s = new Scheduler(wf, { store, clock, onEvent: (e) => events.push(e) })
  s.materialize()
  await s.drain()
  const missed = events.filter((e) => e.type === 'sla-missed')
  assert.deepEqual(missed, [{ type: 'sla-missed', task: 'slow', partition: 'x', slaMs: 300_000, lateMs: 0 }])
  const again = new Scheduler(wf, { store, clock, onEvent: (e) => events.push(e) })
  await again.drain()
  assert.equal(events.filter((e) => e.type === 'sla-missed').length, 1)
})

test('objectExists asks for the exact key, or lists a prefix, and tells a missing object from a store it cannot ask', async () => {
  const asked: string[] = []
  let answer: (name: string) => unknown = () => ({ KeyCount: 0 })
  const client = {
    send: async (cmd: { constructor: { name: string }; input: { Bucket: string; Key?: string; Prefix?: string } }) => {
      asked.push(`${cmd.constructor.name} ${cmd.input.Bucket} ${cmd.input.Key ?? cmd.input.Prefix}`)
      const a = answer(cmd.constructor.name)
      if (a instanceof Error) throw a
      return a
    },
    destroy: () => assert.fail('a client given is not destroyed by the sensor'),
  }
  const ctx = { task: 'wait', partition: '2026-01-01', signal: new AbortController().signal } as TaskContext
  const conn = { client: client as never }
  const notFound = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 404 } })
  answer = () => notFound('NotFound')
  assert.equal(await objectExists((c) => `s3://landing/views/${c.partition}.jsonl`, conn)(ctx), false)
  answer = () => ({})
  assert.equal(await objectExists((c) => `s3://landing/views/${c.partition}.jsonl`, conn)(ctx), true)
  answer = () => ({ KeyCount: 1 })
  assert.equal(await objectExists(() => 's3://landing/parts/', conn)(ctx), true)
  answer = () => notFound('NoSuchBucket')
  await assert.rejects(Promise.resolve(objectExists(() => 's3://landing/parts/', conn)(ctx)), { code: 'SLUICE_WORKFLOW_SENSOR_FAILED', retryable: true })
  assert.deepEqual(asked, [
    'HeadObjectCommand landing views/2026-01-01.jsonl',
    'HeadObjectCommand landing views/2026-01-01.jsonl',
    'ListObjectsV2Command landing parts/',
    'ListObjectsV2Command landing parts/',
  ])
})
