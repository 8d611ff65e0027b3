import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { savepointCommand } from '../../../src/cli/commands/savepoint.ts'
import { stopCommand } from '../../../src/cli/commands/stop.ts'
import { deleteKeys, listKeys, s3Client } from '../../../src/checkpoint/object-store.ts'
import { SluiceError } from '../../../src/core/errors.ts'
import { MetricsRegistry } from '../../../src/observe/metrics/registry.ts'
import { ControlRequestChannel } from '../../../src/runtime/job/control-channel.ts'
import { FakeRunner } from '../../../src/runtime/job/fake-runner.ts'
import { createJob } from '../../../src/runtime/job/handle.ts'
import { serviceOrSkip } from '../../support/services.ts'

// `sluice stop` and `sluice savepoint` reach a job whose checkpoints are in a bucket: the request and its answer
// are objects under the prefix's control/, served through the job's handle as in a folder.

const s3 = serviceOrSkip('s3')

function useBucket(): { bucket: string; url: string } {
  const i = s3.info!
  // The object store's client takes its endpoint and keys from the environment, as a user's would.
  Object.assign(process.env, { SLUICE_S3_ENDPOINT: String(i.endpoint), AWS_ACCESS_KEY_ID: String(i.accessKeyId), AWS_SECRET_ACCESS_KEY: String(i.secretAccessKey), AWS_REGION: String(i.region) })
  return { bucket: String(i.bucket), url: `s3://${String(i.bucket)}/control-${randomUUID()}` }
}

function job(url: string) {
  const { handle, control } = createJob('p', new MetricsRegistry({ pipeline: 'p' }))
  const runner = new FakeRunner(control)
  const channel = new ControlRequestChannel(handle, url, { intervalMs: 20 })
  return { handle, runner, channel }
}

function cli(): { ctx: Parameters<typeof stopCommand.run>[1]; out: () => string } {
  let out = ''
  const stdout = new Writable({ write: (chunk, _e, cb) => ((out += String(chunk)), cb()) }) as unknown as NodeJS.WriteStream
  return { ctx: { stdout, stderr: stdout, cwd: process.cwd(), env: {}, commands: [] }, out: () => out }
}

async function keysUnder(bucket: string, url: string): Promise<string[]> {
  const prefix = url.slice(`s3://${bucket}/`.length) + '/'
  const client = s3Client()
  try {
    return (await listKeys(client, bucket, prefix)).map((k) => k.slice(prefix.length))
  } finally {
    client.destroy()
  }
}

async function clean(bucket: string, url: string): Promise<void> {
  const prefix = url.slice(`s3://${bucket}/`.length) + '/'
  const client = s3Client()
  try {
    await deleteKeys(client, bucket, await listKeys(client, bucket, prefix))
  } finally {
    client.destroy()
  }
}

test('sluice stop s3://bucket/prefix: the request is an object the job serves; it stops with a last checkpoint', { skip: s3.skip }, async () => {
  const { bucket, url } = useBucket()
  const j = job(url)
  try {
    const run = j.runner.run()
    j.runner.feed(4)
    const c = cli()
    assert.equal(await stopCommand.run({ values: {}, positionals: [url] }, c.ctx), 0)
    assert.equal(c.out(), 'the pipeline is stopping\n')
    const summary = await j.handle.done
    await run
    assert.equal(summary.status, 'stopped')
    assert.equal(j.runner.checkpoints.length, 1)
    await j.channel.close() // the answer is written, then the request renamed
    const keys = await keysUnder(bucket, url)
    assert.equal(keys.filter((k) => k.endsWith('.request')).length, 0, keys.join(', '))
    assert.equal(keys.filter((k) => k.endsWith('.done')).length, 1, keys.join(', '))
    assert.equal(keys.filter((k) => k.endsWith('.handled')).length, 1, keys.join(', '))
  } finally {
    await j.channel.close()
    await clean(bucket, url)
  }
})

test('sluice savepoint s3://bucket/prefix <folder> --stop: the job writes the savepoint and stops; a bucket target that holds a savepoint is refused', { skip: s3.skip }, async () => {
  const { bucket, url } = useBucket()
  const dir = mkdtempSync(join(tmpdir(), 'sluice-s3-control-'))
  const j = job(url)
  try {
    const run = j.runner.run()
    j.runner.feed(4)
    const c = cli()
    const client = s3Client()
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${url.slice(`s3://${bucket}/`.length)}/sp-old/manifest.json`, Body: '{}' })).finally(() => client.destroy())
    await assert.rejects(
      () => savepointCommand.run({ values: {}, positionals: [url, `${url}/sp-old`] }, c.ctx),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SAVEPOINT_EXISTS' && /a savepoint needs a new prefix/.test(e.message),
    )
    const code = await savepointCommand.run({ values: {}, positionals: [url, `${url}/sp-new`] }, c.ctx)
    assert.equal(code, 0)
    assert.match(c.out(), /^savepoint 1 written to s3:\/\/.*\/sp-new /)
    assert.equal(await savepointCommand.run({ values: { stop: true }, positionals: [url, join(dir, 'sp-1')] }, c.ctx), 0)
    assert.match(c.out(), /savepoint 2 written to .*sp-1 .*; the pipeline is stopping\n$/)
    assert.equal((await j.handle.done).status, 'stopped')
    await run
  } finally {
    await j.channel.close()
    await clean(bucket, url)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('sluice stop on a bucket that does not exist says it cannot leave the request there', { skip: s3.skip }, async () => {
  useBucket()
  const c = cli()
  await assert.rejects(
    () => stopCommand.run({ values: { timeout: '2s' }, positionals: [`s3://no-such-bucket-${randomUUID().slice(0, 8)}/chk`] }, c.ctx),
    (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CONTROL_UNREACHABLE' && /cannot leave the request in s3:\/\/no-such-bucket-/.test(e.message),
  )
})
