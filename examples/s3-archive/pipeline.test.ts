// Runs the example as its README says against the s3 test service, and reads the Parquet objects back.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { parquetReadObjects } from 'hyparquet'
import { deleteKeys, listKeys, s3Client } from '../../src/checkpoint/object-store.ts'
import { serviceOrSkip } from '../../test/support/services.ts'
import type { Event } from './pipeline.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const svc = serviceOrSkip('s3')

test('s3-archive: the clicks and purchases as Parquet objects, checkpoints in the bucket', { skip: svc.skip }, async () => {
  const i = svc.info!
  const conn = { endpoint: String(i.endpoint), accessKeyId: String(i.accessKeyId), secretAccessKey: String(i.secretAccessKey), region: String(i.region) }
  const bucket = String(i.bucket)
  const client = s3Client(conn)
  try {
    await deleteKeys(client, bucket, await listKeys(client, bucket, 's3-archive/'))
    const env = { ...process.env, SLUICE_S3_ENDPOINT: conn.endpoint, AWS_ACCESS_KEY_ID: conn.accessKeyId, AWS_SECRET_ACCESS_KEY: conn.secretAccessKey, AWS_REGION: conn.region, S3_BUCKET: bucket }
    const args = ['bin/sluice.js', 'run', 'examples/s3-archive/pipeline.ts', '--checkpoint-dir', `s3://${bucket}/s3-archive/checkpoints`, '--quiet']
    const res = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 180_000, env })
    assert.equal(res.status, 0, res.stderr)
    const keys = await listKeys(client, bucket, 's3-archive/')
    assert.ok(keys.some((k) => /^s3-archive\/checkpoints\/chk-\d{8}\/manifest\.json$/.test(k)), 'a checkpoint is in the bucket')
    const ids: number[] = []
    for (const key of keys.filter((k) => /^s3-archive\/events\/part-\d+-\d+\.parquet$/.test(k))) {
      const bytes = await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()
      const rows = (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer })) as { id: bigint | number }[]
      ids.push(...rows.map((r) => Number(r.id)))
    }
    const want = readFileSync(new URL('data/events.jsonl', import.meta.url), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Event).filter((e) => e.kind !== 'view').map((e) => e.id)
    assert.deepEqual(ids.sort((a, b) => a - b), want)
  } finally {
    client.destroy()
  }
})
