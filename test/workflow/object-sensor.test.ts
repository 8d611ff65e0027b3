// The object storage sensor against an S3-compatible server: it waits while the object is missing, holds once
// it is there (exact key, or any object under a prefix), and fails the attempt when the bucket does not exist.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { deleteKeys, listKeys, s3Client } from '../../src/checkpoint/object-store.ts'
import { objectExists } from '../../src/workflow/object-sensor.ts'
import { daily } from '../../src/workflow/partitions.ts'
import { Scheduler } from '../../src/workflow/scheduler.ts'
import { sensorTask, type SensorCheck } from '../../src/workflow/sensors.ts'
import { WorkflowStore } from '../../src/workflow/store.ts'
import { fnTask } from '../../src/workflow/task.ts'
import { workflow } from '../../src/workflow/workflow.ts'
import { serviceOrSkip } from '../support/services.ts'

const s3 = serviceOrSkip('s3')

function conn() {
  const i = s3.info!
  return { endpoint: String(i.endpoint), accessKeyId: String(i.accessKeyId), secretAccessKey: String(i.secretAccessKey), region: String(i.region) }
}

/**
 * Runs `check` as a sensor of one partition, then a task after it; returns the summary, how many times `after`
 * ran and the sensor's error. The clock is real (the checks do real I/O, which virtual time does not wait for):
 * the sensor looks every 20 ms, and gives up after `timeoutMs`, which only the waits that must fail reach.
 */
async function runSensor(check: SensorCheck, timeoutMs = 120_000) {
  let ran = 0
  const wf = workflow('wait-object', { partitions: daily('2026-01-01') })
    .task('wait', sensorTask(check, { pollMs: 20, timeoutMs }), { retry: { retries: 0 } })
    .task('after', fnTask(() => void ran++), { dependsOn: ['wait'] })
    .build()
  const store = new WorkflowStore(':memory:')
  const s = new Scheduler(wf, { store })
  s.enqueue(['2026-01-01'])
  const summary = await s.drain()
  return { summary, ran, error: store.run('wait-object', 'wait', '2026-01-01')?.error }
}

test('objectExists waits for an object, a prefix, and fails on a bucket that is not there', { skip: s3.skip }, async () => {
  const bucket = String(s3.info!.bucket)
  const root = `workflow-sensor/${randomUUID()}/`
  const client = s3Client(conn())
  const put = (key: string) => client.send(new PutObjectCommand({ Bucket: bucket, Key: root + key, Body: '{"page":"/"}\n' }))
  try {
    // Nothing there: the sensor polls until its timeout and its downstream never runs.
    const missing = await runSensor(objectExists(({ partition }) => `s3://${bucket}/${root}drop/${partition}.jsonl`, conn()), 200)
    assert.equal(missing.summary.failed, 1)
    assert.equal(missing.ran, 0)
    assert.match(missing.error!, /SLUICE_WORKFLOW_SENSOR_TIMEOUT/)

    // The object lands between the first and second look: the second look sees it and the downstream runs.
    let polls = 0
    const exact = objectExists(({ partition }) => `s3://${bucket}/${root}drop/${partition}.jsonl`, conn())
    const appears = await runSensor(async (ctx) => {
      if (++polls === 2) await put(`drop/${ctx.partition}.jsonl`)
      return exact(ctx)
    })
    assert.equal(appears.summary.succeeded, 2)
    assert.equal(appears.ran, 1)
    assert.equal(polls, 2)

    // A prefix ending with '/': any object under it will do; an empty folder keeps the sensor waiting.
    const folder = objectExists(({ partition }) => `s3://${bucket}/${root}parts/${partition}/`, conn())
    assert.equal((await runSensor(folder, 200)).summary.failed, 1)
    await put('parts/2026-01-01/part-0.parquet')
    assert.equal((await runSensor(folder)).ran, 1)

    // A store that cannot be asked fails the attempt at once, with the sensor's code, instead of waiting.
    const nobucket = await runSensor(objectExists(() => `s3://no-such-bucket-${randomUUID().slice(0, 8)}/${root}`, conn()))
    assert.equal(nobucket.summary.failed, 1)
    assert.match(nobucket.error!, /SLUICE_WORKFLOW_SENSOR_FAILED/)
  } finally {
    await deleteKeys(client, bucket, await listKeys(client, bucket, root))
    client.destroy()
  }
})
