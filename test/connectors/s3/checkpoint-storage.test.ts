import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { deleteKeys, listKeys, s3Client } from '../../../src/checkpoint/object-store.ts'
import { ObjectCheckpointStorage } from '../../../src/checkpoint/object-storage.ts'
import { prng } from '../../checkpoint/crash.ts'
import { serviceOrSkip } from '../../support/services.ts'

// Checkpoints in a bucket (--checkpoint-dir s3://bucket/prefix): a pipeline writing to sink.s3 is killed with
// SIGKILL at random moments and inside the protocol, and each restart restores from the checkpoints in the
// bucket; in the end the sink's objects hold every record exactly once.

const s3 = serviceOrSkip('s3')
const child = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url))
const COUNT = 12_000

function conn() {
  const i = s3.info!
  return { bucket: String(i.bucket), endpoint: String(i.endpoint), accessKeyId: String(i.accessKeyId), secretAccessKey: String(i.secretAccessKey), region: String(i.region) }
}

function runChild(prefix: string, killAfterMs?: number, failpoint?: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const c = conn()
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_S3_ENDPOINT: c.endpoint, AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey, AWS_REGION: c.region }
    delete env.SLUICE_FAILPOINT
    if (failpoint !== undefined) env.SLUICE_FAILPOINT = failpoint
    const p = spawn(process.execPath, [child, c.bucket, prefix, String(COUNT)], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.stderr.on('data', (d) => (stderr += d))
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), killAfterMs)
    const guard = setTimeout(() => p.kill('SIGKILL'), 120_000)
    p.on('error', reject)
    p.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      clearTimeout(guard)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

async function committed(prefix: string): Promise<number[]> {
  const c = conn()
  const client = s3Client(c)
  try {
    const out: number[] = []
    for (const key of await listKeys(client, c.bucket, `${prefix}/out/`)) {
      if (!/\/out\/part-\d+-\d+\.jsonl$/.test(key)) continue
      const text = await (await client.send(new GetObjectCommand({ Bucket: c.bucket, Key: key }))).Body!.transformToString()
      for (const line of text.split('\n')) if (line !== '') out.push((JSON.parse(line) as { n: number }).n)
    }
    return out.sort((a, b) => a - b)
  } finally {
    client.destroy()
  }
}

for (const [name, first] of [
  ['random kills', { seed: 11 }],
  ['a kill before the manifest is written', { failpoint: 'checkpoint-before-rename:3' }],
  ['a kill between the manifest and the commits', { failpoint: 'checkpoint-before-commit:2' }],
] as const) {
  test(`checkpoints in a bucket, ${name}: every record exactly once`, { skip: s3.skip }, async () => {
    const prefix = `crash-${randomUUID()}`
    try {
      const rnd = prng('seed' in first ? first.seed : 1)
      let left = 'seed' in first ? 3 : 0
      const nextKill = () => (left-- > 0 ? 1000 + Math.floor(rnd() * 3000) : undefined)
      let kills = 0
      let opts: { kill?: number; failpoint?: string } = 'failpoint' in first ? { failpoint: first.failpoint } : { kill: nextKill() }
      let last = ''
      for (;;) {
        const r = await runChild(prefix, opts.kill, opts.failpoint)
        if (r.code === 0) {
          last = r.stdout
          break
        }
        assert.equal(r.signal, 'SIGKILL', `the child failed instead of being killed: ${r.stderr}`)
        kills++
        opts = { kill: nextKill() }
      }
      assert.ok(kills >= 1, 'the child was never killed')
      // Killed after a manifest was written, the next run resumes from a checkpoint read from the bucket.
      if ('failpoint' in first && first.failpoint.startsWith('checkpoint-before-commit')) assert.equal(typeof (JSON.parse(last) as { restoredFrom: unknown }).restoredFrom, 'number', last)
      const got = await committed(prefix)
      assert.equal(got.length, COUNT, `${got.length} records committed, not ${COUNT}`)
      assert.deepEqual(got, Array.from({ length: COUNT }, (_, i) => i))
      const c = conn()
      const client = s3Client(c)
      try {
        const keys = await listKeys(client, c.bucket, `${prefix}/`)
        assert.deepEqual(keys.filter((k) => k.includes('/.sluice-uploads/')), [], 'no upload is left open')
        assert.ok(keys.some((k) => /\/chk\/chk-\d{8}\/manifest\.json$/.test(k)), 'the checkpoints are in the bucket')
      } finally {
        client.destroy()
      }
    } finally {
      const c = conn()
      const client = s3Client(c)
      await deleteKeys(client, c.bucket, await listKeys(client, c.bucket, `${prefix}/`)).finally(() => client.destroy())
    }
  })
}

test('a checkpoint without its manifest is not listed, and retention removes it once a newer one is complete', { skip: s3.skip }, async () => {
  const c = conn()
  const url = `s3://${c.bucket}/unit-${randomUUID()}`
  const storage = new ObjectCheckpointStorage(url, c)
  const manifest = (id: number) => ({ format: 2, id, pipeline: 'p', createdAt: 0, sources: [], operators: [], sinks: [] }) as never
  try {
    await storage.write(manifest(1), [])
    const { PutObjectCommand } = await import('@aws-sdk/client-s3')
    const client = s3Client(c)
    const prefix = url.slice(`s3://${c.bucket}/`.length)
    // A state file of checkpoint 2, whose manifest never came (the writer was killed).
    await client.send(new PutObjectCommand({ Bucket: c.bucket, Key: `${prefix}/chk-00000002/op.state`, Body: 'x' }))
    assert.deepEqual(await storage.ids(), [1])
    await storage.write(manifest(3), [{ name: 'op.state', data: new Uint8Array([1, 2, 3]) }])
    await storage.retain(1)
    assert.deepEqual(await storage.ids(), [3])
    assert.deepEqual(await listKeys(client, c.bucket, `${prefix}/`), [`${prefix}/chk-00000003/manifest.json`, `${prefix}/chk-00000003/op.state`])
    assert.equal((await storage.read(3)).manifest.id, 3)
    await deleteKeys(client, c.bucket, await listKeys(client, c.bucket, `${prefix}/`))
    client.destroy()
  } finally {
    await storage.release()
  }
})
