import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { sink } from '../index.ts'
import type { SinkContext, SinkWriter } from '../../core/sink.ts'
import { SluiceError } from '../../core/errors.ts'
import { committedParts, STAGING_DIR } from './part-files.ts'
import { withTempDir } from './test-support.ts'

const ctx: SinkContext = { pipeline: 'test', stepId: 'sink-jsonl-1', subtask: 0, checkpointing: true }

function batch(from: number, n: number) {
  const values = Array.from({ length: n }, (_, i) => ({ n: from + i }))
  return { values, times: values.map(() => 0) }
}

async function output(dir: string): Promise<number[]> {
  const out: number[] = []
  for (const f of await committedParts(dir)) {
    for (const line of (await readFile(f, 'utf8')).split('\n')) if (line !== '') out.push((JSON.parse(line) as { n: number }).n)
  }
  return out
}

async function open(dir: string): Promise<SinkWriter<{ n: number }>> {
  return sink.jsonl<{ n: number }>(dir).open(ctx)
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)

test('with checkpoints, records become visible when their checkpoint commits, as one part file each', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'out')
    const w = await open(dir)
    await w.recover!([])
    await w.write(batch(0, 5))
    await w.write(batch(5, 5))
    const h1 = await w.preCommit!(1)
    assert.deepEqual(await output(dir), [])
    await w.commit!(1, h1)
    assert.deepEqual(await output(dir), range(0, 10))
    // A checkpoint with nothing written commits nothing.
    await w.commit!(2, await w.preCommit!(2))
    await w.write(batch(10, 3))
    await w.commit!(3, await w.preCommit!(3))
    await w.close()
    assert.deepEqual(await output(dir), range(0, 13))
    assert.deepEqual((await readdir(dir)).sort(), [STAGING_DIR, 'part-0-1.jsonl', 'part-0-3.jsonl'])
    assert.deepEqual(await readdir(join(dir, STAGING_DIR)), [])
  })
})

test('a crash after preCommit: recover commits the restored checkpoint, drops later data and staged garbage', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'out')
    const a = await open(dir)
    await a.recover!([])
    await a.write(batch(0, 4))
    const h1 = await a.preCommit!(1)
    await a.write(batch(4, 4))
    await a.preCommit!(2) // checkpoint 2 never completes
    await a.write(batch(8, 4)) // in progress at the crash
    await a.write(batch(12, 1 << 17)) // large enough to reach the disk
    // Crash: a is dropped without commit or close.
    const b = await open(dir)
    await b.recover!([{ subtask: 0, checkpointId: 1, handle: JSON.parse(JSON.stringify(h1)) }])
    assert.deepEqual(await output(dir), range(0, 4))
    assert.deepEqual(await readdir(join(dir, STAGING_DIR)), [])
    // The source rewinds to checkpoint 1's positions: records 4.. are written again.
    await b.write(batch(4, 8))
    await b.commit!(2, await b.preCommit!(2))
    assert.deepEqual(await output(dir), range(0, 12))
  })
})

test('a crash after commit: recovering the same checkpoint again is idempotent', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'out')
    const a = await open(dir)
    await a.recover!([])
    await a.write(batch(0, 3))
    const h1 = await a.preCommit!(1)
    await a.commit!(1, h1)
    await a.write(batch(3, 3))
    await a.commit!(2, await a.preCommit!(2))
    const b = await open(dir)
    await b.recover!([{ subtask: 0, checkpointId: 1, handle: h1 }])
    assert.deepEqual(await output(dir), range(0, 3), 'parts of checkpoints after the restored one are removed')
    await b.recover!([{ subtask: 0, checkpointId: 1, handle: h1 }])
    assert.deepEqual(await output(dir), range(0, 3))
  })
})

test('a checkpoint that failed is committed by the next one', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'out')
    const w = await open(dir)
    await w.recover!([])
    await w.write(batch(0, 2))
    await w.preCommit!(1) // never completes
    await w.write(batch(2, 2))
    const h2 = await w.preCommit!(2)
    assert.equal((h2 as { txns: unknown[] }).txns.length, 2)
    await w.commit!(2, h2)
    assert.deepEqual(await output(dir), range(0, 4))
  })
})

test('a fresh run replaces the parts of an earlier run; without recover the first write does it', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'out')
    const a = await open(dir)
    await a.write(batch(0, 3))
    await a.commit!(7, await a.preCommit!(7))
    const b = await open(dir)
    await b.write(batch(100, 1))
    await b.commit!(1, await b.preCommit!(1))
    assert.deepEqual(await output(dir), [100])
  })
})

test('without checkpoints the sink writes one file; with them a file at the path is an error', async () => {
  await withTempDir(async (tmp) => {
    const path = join(tmp, 'sub', 'out.jsonl')
    const w = await sink.jsonl(path).open({ ...ctx, checkpointing: false })
    await w.write(batch(0, 2))
    await w.close()
    assert.equal(await readFile(path, 'utf8'), '{"n":0}\n{"n":1}\n')
    await assert.rejects(async () => sink.jsonl(path).open(ctx), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SINK_FAILED')
    assert.equal(sink.jsonl(path).guarantee, 'exactly-once')
    assert.equal(sink.jsonl(path, { append: true }).guarantee, 'at-least-once')
  })
})

test('a pre-committed file that vanished is a commit error, not silent loss', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'out')
    await mkdir(dir)
    await writeFile(join(dir, 'unrelated.txt'), 'kept')
    const w = await open(dir)
    await assert.rejects(async () => w.commit!(1, { txns: [{ checkpointId: 1, txn: { pending: `${STAGING_DIR}/part-0-1.pending`, final: 'part-0-1.jsonl' } }] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SINK_COMMIT_FAILED')
    await w.recover!([])
    assert.deepEqual((await readdir(dir)).sort(), [STAGING_DIR, 'unrelated.txt'])
  })
})

test('append is the explicit at-least-once choice: with checkpoints it appends to one file, fsynced at each barrier', async () => {
  await withTempDir(async (tmp) => {
    const path = join(tmp, 'log.jsonl')
    const w = await sink.jsonl(path, { append: true }).open(ctx)
    await w.write(batch(0, 2))
    assert.equal(await w.preCommit!(1), null)
    assert.equal(await readFile(path, 'utf8'), '{"n":0}\n{"n":1}\n')
    await w.write(batch(2, 1))
    await w.close()
    // A restart appends what came after the last checkpoint again: duplicates, never loss.
    const again = await sink.jsonl(path, { append: true }).open(ctx)
    await again.write(batch(2, 1))
    await again.close()
    assert.equal(await readFile(path, 'utf8'), '{"n":0}\n{"n":1}\n{"n":2}\n{"n":2}\n')
  })
})
