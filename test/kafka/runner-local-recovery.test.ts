// Local recovery with the Kafka runner: two `sluice worker` processes on one machine checkpoint into a bucket,
// both are killed with SIGKILL mid-run and two new ones restart the job. Every request to the object store goes
// through a counting proxy: the restore reads manifests from the bucket but no state file (thread 0 takes every
// subtask's files from this machine's copies, threads 1.. receive their state from it), and the output is still
// that of one process, exactly once.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { sha256 } from '../../src/checkpoint/storage.ts'
import { serviceOrSkip } from '../support/services.ts'
import { broker } from './support.ts'
import { completeWithBoth, countingProxy, ends, events, jobTopics, output, reference, stateFile, until, worker, write, type Worker } from './runner-support.ts'

const s3 = serviceOrSkip('s3')

test('two workers on one machine, killed and restarted: the restore reads no state file from the bucket, output exactly once', { skip: broker.skip ?? s3.skip, timeout: 900_000 }, async () => {
  const i = s3.info!
  const proxy = await countingProxy(String(i.endpoint))
  Object.assign(process.env, { SLUICE_S3_ENDPOINT: proxy.endpoint, AWS_ACCESS_KEY_ID: String(i.accessKeyId), AWS_SECRET_ACCESS_KEY: String(i.secretAccessKey), AWS_REGION: String(i.region) })
  const prefix = `runner-local-${randomUUID()}`
  const dir = `s3://${String(i.bucket)}/${prefix}`
  // The local copies' default folder, as ObjectCheckpointStorage names it.
  const local = join(tmpdir(), `sluice-local-recovery-${sha256(Buffer.from(dir)).slice(0, 12)}`)
  const { input, out, ref, group, refDir } = await jobTopics('runner-local')
  const workers: Worker[] = []
  const bounded = ['--param', 'bounded=true', '--param', 'pace=300']
  try {
    await write(input, [...events(0, 9000), ...ends()])
    for (let n = 0; n < 2; n++) workers.push(worker(input, out, group, dir, bounded))
    await until('a run of two workers', () => workers.some((w) => /thread 1 of 2/.test(w.log)), undefined, workers)
    // A complete checkpoint (its manifest written) holds state files of both subtasks
    // (`<step>.<subtask>.<part>.state|delta`); early checkpoints may hold state of one subtask only.
    await until('a complete checkpoint with state of both subtasks', () => completeWithBoth(proxy.seen), undefined, workers)
    await until('output of the two', async () => (await output(out)).length > 0, undefined, workers)
    for (const w of workers) w.proc.kill('SIGKILL')
    await Promise.all(workers.map((w) => w.exited))
    // The state files of both subtasks are on this machine.
    const copies = (await readdir(local, { recursive: true })).filter((f) => /chk-\d+\/.+\.(state|delta)$/.test(f))
    assert.ok(copies.some((f) => /\.1\.\d+\.(state|delta)$/.test(f)), copies.join('\n'))
    assert.deepEqual(proxy.seen.filter((l) => stateFile(l, 'GET')), [], 'the first run read no state file')

    const restarted = [worker(input, out, group, dir, bounded), worker(input, out, group, dir, bounded)]
    workers.push(...restarted)
    const codes = await Promise.all(restarted.map((w) => w.exited))
    assert.deepEqual(codes, [0, 0], restarted.map((w) => w.log).join('\n---\n'))
    const log = restarted.map((w) => w.log).join('\n')
    assert.match(log, /restored checkpoint \d+/)
    assert.match(log, /the job has finished/)
    assert.deepEqual(proxy.seen.filter((l) => stateFile(l, 'GET')), [], 'the restores read no state file from the bucket')
    assert.ok(proxy.seen.some((l) => l.startsWith('GET ') && l.endsWith('/manifest.json')), 'the manifest is read from the bucket')

    await reference(input, ref, refDir)
    assert.deepEqual(await output(out), await output(ref))
  } finally {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL')
    proxy.server.close()
    proxy.server.closeAllConnections()
    await rm(refDir, { recursive: true, force: true })
    await rm(local, { recursive: true, force: true })
  }
})
