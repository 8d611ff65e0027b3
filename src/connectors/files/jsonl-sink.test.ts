import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { sink } from '../index.ts'
import { sinkGuarantee, type Sink, type SinkContext, type SinkWriter } from '../../core/sink.ts'
import { SluiceError } from '../../core/errors.ts'
import { committedParts, STAGING_DIR } from './part-files.ts'
import { defaultLayout } from './jsonl-sink.ts'
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

test('the path decides the layout, whatever the run: a name with an extension is one file, any other a folder of parts', async () => {
  assert.equal(defaultLayout('out/counts.jsonl'), 'file')
  assert.equal(defaultLayout('out/counts'), 'parts')
  assert.equal(defaultLayout('out/counts.d/'), 'parts')
  assert.equal(defaultLayout('out/.hidden'), 'parts')
  assert.equal(sink.jsonl('out/a.jsonl').singleSubtask, true)
  assert.equal(sink.jsonl('out/a').singleSubtask, false)
  assert.equal(sink.jsonl('out/a', { layout: 'file' }).singleSubtask, true)
  assert.throws(() => sink.jsonl('out/a', { append: true }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
  await withTempDir(async (tmp) => {
    const path = join(tmp, 'sub', 'out.jsonl')
    const w = await sink.jsonl(path).open({ ...ctx, checkpointing: false })
    await w.write(batch(0, 2))
    await w.close()
    assert.equal(await readFile(path, 'utf8'), '{"n":0}\n{"n":1}\n')
    // A folder without checkpoints: each subtask's records become its part of checkpoint 0 at the end.
    const dir = join(tmp, 'parts')
    for (let subtask = 0; subtask < 2; subtask++) {
      const p = await sink.jsonl<{ n: number }>(dir).open({ ...ctx, subtask, parallelism: 2, checkpointing: false })
      await p.write(batch(subtask * 10, 2))
      await p.close()
    }
    assert.deepEqual((await readdir(dir)).sort(), [STAGING_DIR, 'part-0-0.jsonl', 'part-1-0.jsonl'])
    assert.deepEqual(await output(dir), [0, 1, 10, 11])
  })
})

test('a sink says what it guarantees in a run: exactly-once only with checkpoints', () => {
  const g = (s: Sink<unknown>, checkpointing: boolean) => sinkGuarantee(s, { checkpointing })
  assert.equal(g(sink.jsonl('out.jsonl'), true), 'exactly-once')
  assert.equal(g(sink.jsonl('out.jsonl'), false), 'at-least-once')
  assert.equal(g(sink.jsonl('out'), false), 'at-least-once')
  assert.equal(g(sink.jsonl('out.jsonl', { append: true }), true), 'at-least-once')
  assert.equal(g(sink.console(), true), 'none')
})

test('one file with checkpoints: a restart cuts the file back to the restored checkpoint; a fresh start empties it', async () => {
  await withTempDir(async (tmp) => {
    const path = join(tmp, 'out.jsonl')
    const a = await sink.jsonl<{ n: number }>(path).open(ctx)
    await a.recover!([])
    await a.write(batch(0, 2))
    const h1 = await a.preCommit!(1)
    await a.commit!(1, h1)
    await a.write(batch(2, 2))
    await a.preCommit!(2) // checkpoint 2 never completes
    await a.write(batch(4, 1))
    await a.close() // a crash, as far as the file is concerned
    const b = await sink.jsonl<{ n: number }>(path).open(ctx)
    await b.recover!([{ subtask: 0, checkpointId: 1, handle: JSON.parse(JSON.stringify(h1)) }])
    assert.equal(await readFile(path, 'utf8'), '{"n":0}\n{"n":1}\n')
    await b.write(batch(2, 3))
    await b.commit!(2, await b.preCommit!(2))
    await b.close()
    assert.equal(await readFile(path, 'utf8'), [0, 1, 2, 3, 4].map((n) => `{"n":${n}}\n`).join(''))
    const c = await sink.jsonl<{ n: number }>(path).open(ctx)
    await c.write(batch(9, 1)) // never told what to recover: a fresh start
    await c.close()
    assert.equal(await readFile(path, 'utf8'), '{"n":9}\n')
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

test('a handle of the earlier format ({ files }) in an older checkpoint or savepoint still recovers', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'out')
    const a = await open(dir)
    await a.recover!([])
    await a.write(batch(0, 3))
    const h = (await a.preCommit!(4)) as { txns: { txn: unknown }[] }
    const b = await open(dir)
    await b.recover!([{ subtask: 0, checkpointId: 4, handle: { files: h.txns.map((t) => t.txn) } }])
    assert.deepEqual(await output(dir), range(0, 3))
  })
})
