import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, start, SluiceError } from '../../../src/index.ts'
import { committedParts } from '../../../src/connectors/files/part-files.ts'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { deleteKeys, listKeys, s3Client } from '../../../src/checkpoint/object-store.ts'
import { putStateFiles } from '../../../src/checkpoint/object-savepoint.ts'
import { openStateFolder } from '../../../src/checkpoint/open-folder.ts'
import { sha256 } from '../../../src/checkpoint/storage.ts'
import build, { control } from '../../parallel/fixtures/checkpointed.ts'
import { serviceOrSkip } from '../../support/services.ts'

// A savepoint into a bucket: a job stopped with `JobHandle.savepoint('s3://…', { stop: true })` resumes from
// it (`restoreFrom: 's3://…'`, what `sluice run --restore-from` passes) at another parallelism, and its
// committed output is that of one straight run.

const s3 = serviceOrSkip('s3')
const module = new URL('../../parallel/fixtures/checkpointed.ts', import.meta.url).href

function useBucket(): { bucket: string; prefix: string } {
  const i = s3.info!
  Object.assign(process.env, { SLUICE_S3_ENDPOINT: String(i.endpoint), AWS_ACCESS_KEY_ID: String(i.accessKeyId), AWS_SECRET_ACCESS_KEY: String(i.secretAccessKey), AWS_REGION: String(i.region) })
  return { bucket: String(i.bucket), prefix: `savepoint-${randomUUID()}` }
}

async function output(dir: string): Promise<string[]> {
  const lines: string[] = []
  for (const f of await committedParts(dir)) for (const l of (await readFile(f, 'utf8')).split('\n')) if (l !== '') lines.push(l)
  return lines.sort()
}

for (const [from, to] of [
  [2, 3],
  [1, 2],
] as const) {
  test(`stopped with a savepoint into a bucket at parallelism ${from}, resumed from it at parallelism ${to}: the output of one straight run`, { skip: s3.skip, timeout: 120_000 }, async () => {
    const { bucket, prefix } = useBucket()
    const tmp = await mkdtemp(join(tmpdir(), 'sluice-s3-savepoint-'))
    const target = `s3://${bucket}/${prefix}/sp-1`
    try {
      control.stopAt = -1
      const straight = await run(build({ params: { out: join(tmp, 'expected') } }), { checkpoint: { dir: join(tmp, 'chk-expected'), intervalMs: 0 } })
      assert.equal(straight.status, 'finished')
      const want = await output(join(tmp, 'expected'))
      assert.ok(want.length > 1000)

      // Without periodic checkpoints, each reader stops after 4,000 records until a barrier takes its position:
      // the savepoint finds the job there, however fast the machine is.
      const out = join(tmp, 'out')
      const params = { out, every: '4000' }
      const job = start(build({ params }), { parallelism: from, module, params, checkpoint: { dir: join(tmp, 'chk-1'), intervalMs: 0 } })
      while ((job.metrics().steps.find((s) => s.step === 'counts')?.recordsIn ?? 0) < 4000) await new Promise((r) => setTimeout(r, 20))
      const stats = await job.savepoint(target, { stop: true })
      assert.ok(stats.bytes > 0)
      const first = await job.done
      assert.equal(first.status, 'stopped')
      const part = await output(out)
      assert.ok(part.length < want.length, `the first run committed ${part.length} of ${want.length}`)

      const client = s3Client()
      try {
        const keys = await listKeys(client, bucket, `${prefix}/sp-1/`)
        assert.ok(keys.includes(`${prefix}/sp-1/manifest.json`) && keys.length > 1, keys.join(', '))
      } finally {
        client.destroy()
      }
      // `sluice state` reads it where it is.
      assert.equal((await openStateFolder(target)).manifest.id, stats.id)
      // A second savepoint into the same prefix is refused.
      const again = start(build({ params: { out: join(tmp, 'other'), every: '4000' } }), { checkpoint: { dir: join(tmp, 'chk-other'), intervalMs: 0 } })
      await assert.rejects(() => again.savepoint(target, { stop: true }), (e: unknown) => e instanceof SluiceError && /already exists/.test(e.message))
      await again.stop()

      const second = await run(build({ params }), { parallelism: to, module, params, checkpoint: { dir: join(tmp, 'chk-2'), intervalMs: 1, restoreFrom: target } })
      assert.equal(second.status, 'finished')
      assert.equal(second.checkpoints?.restoredFrom, stats.id)
      assert.deepEqual(await output(out), want)
    } finally {
      await rm(tmp, { recursive: true, force: true })
      const client = s3Client()
      await deleteKeys(client, bucket, await listKeys(client, bucket, `${prefix}/`)).finally(() => client.destroy())
    }
  })
}

test('state files larger than a part go up in parts, read from their staged file, and come back whole', { skip: s3.skip }, async () => {
  const { bucket, prefix } = useBucket()
  const tmp = await mkdtemp(join(tmpdir(), 'sluice-s3-parts-'))
  const client = s3Client()
  try {
    const big = Buffer.alloc(11 * 1024 * 1024 + 123)
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251
    await writeFile(join(tmp, 'big.state'), big)
    const bytes = await putStateFiles(client, bucket, `${prefix}/`, [{ name: 'big.state', path: join(tmp, 'big.state'), bytes: big.length }, { name: 'small.state', data: Buffer.from('small') }], 5 * 1024 * 1024)
    assert.equal(bytes, big.length + 5)
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/big.state` }))
    assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(big))
  } finally {
    await deleteKeys(client, bucket, await listKeys(client, bucket, `${prefix}/`))
    client.destroy()
    await rm(tmp, { recursive: true, force: true })
  }
})
