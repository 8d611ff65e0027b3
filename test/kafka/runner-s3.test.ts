// `sluice worker --runner kafka --checkpoint-dir s3://bucket/prefix`: the runner's checkpoints and its own notes
// (the job has finished) live in object storage. Two workers over bounded input, thread 0 killed with SIGKILL
// mid-run: the other restores from the bucket, finishes the job, and the output is that of one process; a worker
// started afterwards finds the job finished in the bucket and exits at once. And `sluice stop s3://...` reaches the
// workers of a job that runs on: its request is an object beside the checkpoints.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { test } from 'node:test'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { listKeys, s3Client } from '../../src/checkpoint/object-store.ts'
import { serviceOrSkip } from '../support/services.ts'
import { broker, topicName } from './support.ts'
import { ends, events, jobTopics, output, reference, stopJob, topics, until, worker, write, type Worker } from './runner-support.ts'

const s3 = serviceOrSkip('s3')

/** The store's address and keys, put in the environment for the workers (and `sluice stop`) to inherit. */
function storeEnv() {
  const i = s3.info!
  const conn = { endpoint: String(i.endpoint), accessKeyId: String(i.accessKeyId), secretAccessKey: String(i.secretAccessKey), region: String(i.region) }
  Object.assign(process.env, { SLUICE_S3_ENDPOINT: conn.endpoint, AWS_ACCESS_KEY_ID: conn.accessKeyId, AWS_SECRET_ACCESS_KEY: conn.secretAccessKey, AWS_REGION: conn.region })
  return { i, conn }
}

test('two workers with checkpoints in a bucket, thread 0 killed mid-run: the output of one process, exactly once', { skip: broker.skip ?? s3.skip, timeout: 900_000 }, async () => {
  const { i, conn } = storeEnv()
  const prefix = `runner-${randomUUID()}`
  const dir = `s3://${String(i.bucket)}/${prefix}`
  const { input, out, ref, group, refDir } = await jobTopics('runner-s3')
  const workers: Worker[] = []
  // Paced by checkpoints (at most 300 records per subtask between two), the bounded job takes 15 or more of
  // them, so the kill after the first committed output lands while it runs, however fast the machine is.
  const bounded = ['--param', 'bounded=true', '--param', 'pace=300']
  try {
    await write(input, [...events(0, 9000), ...ends()])
    for (let n = 0; n < 2; n++) workers.push(worker(input, out, group, dir, bounded))
    await until('a run of two workers', () => workers.some((w) => /thread 1 of 2/.test(w.log)), undefined, workers)
    await until('output of the two', async () => (await output(out)).length > 0, undefined, workers)
    const leader = workers.find((w) => /thread (\d+) of 2\n(?![\s\S]*thread)/.exec(w.log)?.[1] === '0') ?? workers[0]
    leader.proc.kill('SIGKILL')
    assert.equal(await leader.exited, null)
    const alive = workers.find((w) => w !== leader)!
    assert.equal(await alive.exited, 0, alive.log)
    assert.match(alive.log, /thread 0 of 1/)
    assert.match(alive.log, /the job has finished/)

    const client = s3Client({ ...conn, region: conn.region })
    try {
      const keys = await listKeys(client, String(i.bucket), `${prefix}/`)
      assert.ok(keys.some((k) => /\/chk-\d+\/manifest\.json$/.test(k)), keys.join('\n'))
      const finished = await (await client.send(new GetObjectCommand({ Bucket: String(i.bucket), Key: `${prefix}/runner/finished.json` }))).Body!.transformToString()
      assert.equal((JSON.parse(finished) as { status: string }).status, 'finished')
    } finally {
      client.destroy()
    }
    const late = worker(input, out, group, dir, bounded)
    workers.push(late)
    assert.equal(await late.exited, 0, late.log)
    assert.match(late.log, /the job has finished after 0 run/)

    await reference(input, ref, refDir)
    assert.deepEqual(await output(out), await output(ref))
  } finally {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL')
    await rm(refDir, { recursive: true, force: true })
  }
})

test('sluice stop s3://bucket/prefix stops the workers of a job checkpointing into the bucket', { skip: broker.skip ?? s3.skip, timeout: 600_000 }, async () => {
  const { i, conn } = storeEnv()
  const prefix = `runner-stop-${randomUUID()}`
  const dir = `s3://${String(i.bucket)}/${prefix}`
  const input = topicName('runner-s3-stop-in')
  const out = topicName('runner-s3-stop-out')
  const group = topicName('runner-s3-stop-job')
  await topics(input, out)
  const workers: Worker[] = []
  try {
    await write(input, events(0, 3000))
    for (let n = 0; n < 2; n++) workers.push(worker(input, out, group, dir))
    await until('a run of two workers', () => workers.some((w) => /thread 1 of 2/.test(w.log)), undefined, workers)
    await until('output of the two', async () => (await output(out)).length > 0, undefined, workers)
    await stopJob(dir)
    const codes = await Promise.all(workers.map((w) => w.exited))
    assert.deepEqual(codes, [0, 0], workers.map((w) => w.log).join('\n'))
    const client = s3Client({ ...conn, region: conn.region })
    try {
      const keys = await listKeys(client, String(i.bucket), `${prefix}/`)
      assert.ok(keys.includes(`${prefix}/runner/stopping.json`), keys.join('\n'))
      assert.ok(keys.some((k) => /\/control\/stop-.*\.done$/.test(k)), keys.join('\n'))
    } finally {
      client.destroy()
    }
  } finally {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL')
  }
})
