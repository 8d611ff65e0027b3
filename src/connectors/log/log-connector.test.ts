import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { source, sink } from '../index.ts'
import { END, type SourceReader } from '../../core/source.ts'
import type { SinkContext, SinkWriter } from '../../core/sink.ts'
import { pipeline } from '../../api/pipeline.ts'
import { run } from '../../runtime/run.ts'
import { checkResume, context, readPartition } from '../resume-support.ts'
import { acquireLog } from './shared-log.ts'
import type { LogSourceOptions } from './source.ts'

async function withLogDir<R>(fn: (dir: string) => Promise<R>): Promise<R> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-log-connector-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const quiet = { logger: { warn: () => undefined } }
const ctx: SinkContext = { pipeline: 'p', stepId: 'sink-log-1', subtask: 0, checkpointing: true }

function batch(from: number, n: number) {
  const values = Array.from({ length: n }, (_, i) => ({ n: from + i }))
  return { values, times: values.map(() => 0) }
}

/** Everything a read_committed (or uncommitted) reader sees now, partitions concatenated. */
async function visible(dir: string, topic: string, isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'): Promise<number[]> {
  const reader = (await source.log<{ n: number }>(dir, topic, { stopAtEnd: true, isolation, log: quiet }).open(context())) as SourceReader<{ n: number }>
  try {
    const out: number[] = []
    for (let p = 0; p < reader.partitions; p++) out.push(...(await readPartition(reader, p, 7)).map((v) => v.n))
    return out.sort((a, b) => a - b)
  } finally {
    await reader.close()
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)

/** Drops a writer as a crash would: no commit, no close; only the process's hold on the log goes. */
async function crash(w: SinkWriter<unknown>): Promise<void> {
  await (w as unknown as { release(): Promise<void> }).release()
}

test('log source: resumes at the next offset per partition', async () => {
  await withLogDir(async (dir) => {
    const ref = await acquireLog(dir, quiet)
    await ref.log.createTopic('t', { partitions: 3 })
    for (let p = 0; p < 3; p++) await ref.log.append('t', p, Array.from({ length: 40 + p * 7 }, (_, i) => ({ value: JSON.stringify({ p, i }) })))
    await checkResume(() => source.log(dir, 't', { stopAtEnd: true }), 15)
    await ref.release()
  })
})

test('log source: from latest, from offsets, and a group resumes where it closed', async () => {
  await withLogDir(async (dir) => {
    const ref = await acquireLog(dir, quiet)
    await ref.log.createTopic('t')
    await ref.log.append('t', 0, range(0, 10).map((i) => ({ value: String(i) })))
    const read = async (opts: LogSourceOptions<number>) => {
      const r = (await source.log<number>(dir, 't', { stopAtEnd: true, ...opts }).open(context())) as SourceReader<number>
      const got = await readPartition(r, 0, 3, 2)
      await r.close()
      return got
    }
    assert.deepEqual(await read({ from: 'latest' }), [])
    assert.deepEqual(await read({ from: { offsets: [7] } }), [7, 8, 9])
    assert.deepEqual(await read({ group: 'g' }), [0, 1, 2, 3, 4, 5])
    assert.deepEqual(await read({ group: 'g' }), [6, 7, 8, 9])
    assert.equal(ref.log.committedOffset('g', 't', 0), 10)
    await ref.release()
  })
})

test('log sink: records are visible to read_committed readers once their checkpoint commits', async () => {
  await withLogDir(async (dir) => {
    const w = await sink.log<{ n: number }>(dir, 'out', { partitions: 2, key: (v) => String(v.n), log: quiet }).open(ctx)
    await w.recover!([])
    await w.write(batch(0, 20))
    assert.deepEqual(await visible(dir, 'out'), [])
    const h1 = await w.preCommit!(1)
    assert.deepEqual(await visible(dir, 'out'), [])
    assert.deepEqual(await visible(dir, 'out', 'read_uncommitted'), range(0, 20))
    await w.commit!(1, h1)
    assert.deepEqual(await visible(dir, 'out'), range(0, 20))
    await w.write(batch(20, 5))
    await w.commit!(2, await w.preCommit!(2))
    await w.close()
    assert.deepEqual(await visible(dir, 'out'), range(0, 25))
  })
})

test('log sink: a crash after preCommit, then recover: the restored checkpoint commits, later transactions are fenced off', async () => {
  await withLogDir(async (dir) => {
    const s = sink.log<{ n: number }>(dir, 'out', { partitions: 3, key: (v) => String(v.n), log: quiet })
    const a = await s.open(ctx)
    await a.recover!([])
    await a.write(batch(0, 10))
    const h1 = JSON.parse(JSON.stringify(await a.preCommit!(1)))
    await a.write(batch(10, 10))
    await a.preCommit!(2) // never completes
    await a.write(batch(20, 10)) // open at the crash
    await crash(a)
    const b = await s.open(ctx)
    await b.recover!([{ subtask: 0, checkpointId: 1, handle: h1 }])
    assert.deepEqual(await visible(dir, 'out'), range(0, 10))
    // The source rewinds to checkpoint 1: records 10.. come again.
    await b.write(batch(10, 20))
    await b.commit!(2, await b.preCommit!(2))
    await b.close()
    assert.deepEqual(await visible(dir, 'out'), range(0, 30))
  })
})

test('log sink: a crash after the manifest but before commit, and recovering twice, commit exactly once', async () => {
  await withLogDir(async (dir) => {
    const s = sink.log<{ n: number }>(dir, 'out', { log: quiet })
    const a = await s.open(ctx)
    await a.recover!([])
    await a.write(batch(0, 5))
    await a.commit!(1, await a.preCommit!(1))
    await a.write(batch(5, 5))
    const h2 = await a.preCommit!(2)
    await a.write(batch(10, 5))
    await crash(a)
    for (let i = 0; i < 2; i++) {
      const b = await s.open(ctx)
      await b.recover!([{ subtask: 0, checkpointId: 2, handle: h2 }])
      await crash(b)
    }
    assert.deepEqual(await visible(dir, 'out'), range(0, 10))
  })
})

test('log sink: a stopped run aborts what it wrote after its last checkpoint', async () => {
  await withLogDir(async (dir) => {
    const w = await sink.log<{ n: number }>(dir, 'out', { log: quiet }).open(ctx)
    await w.recover!([])
    await w.write(batch(0, 3))
    await w.commit!(1, await w.preCommit!(1))
    await w.write(batch(3, 3))
    await w.close()
    assert.deepEqual(await visible(dir, 'out'), [0, 1, 2])
    assert.deepEqual(await visible(dir, 'out', 'read_uncommitted'), range(0, 6))
  })
})

test('log source: an unbounded read_committed reader waits at an open transaction, then reads on', async () => {
  await withLogDir(async (dir) => {
    const w = await sink.log<{ n: number }>(dir, 'out', { log: quiet }).open(ctx)
    await w.recover!([])
    await w.write(batch(0, 3))
    const r = (await source.log<{ n: number }>(dir, 'out', { pollInterval: '5ms', log: quiet }).open(context())) as SourceReader<{ n: number }>
    assert.equal(await r.read(0, 10), null)
    await w.commit!(1, await w.preCommit!(1))
    const got = await r.read(0, 10)
    assert.ok(got !== null && got !== END)
    assert.deepEqual(got.values.map((v) => v.n), [0, 1, 2])
    // Offset 0 is the fence of recover, 1-3 the records, 4 the commit marker: consumed too.
    assert.deepEqual(r.positions!(), [5])
    await w.close()
    await r.close()
  })
})

test('log source and sink share one log folder in a pipeline run', async () => {
  await withLogDir(async (dir) => {
    const ref = await acquireLog(dir, quiet)
    await ref.log.createTopic('in', { partitions: 2 })
    await ref.log.append('in', 0, range(0, 50).map((n) => ({ value: JSON.stringify({ n }) })))
    await ref.log.append('in', 1, range(50, 80).map((n) => ({ value: JSON.stringify({ n }) })))
    await ref.release()
    const p = pipeline('copy')
    p.from(source.log<{ n: number }>(dir, 'in', { stopAtEnd: true, log: quiet }))
      .map((v) => ({ n: v.n * 2 }))
      .to(sink.log(dir, 'out', { log: quiet }))
    await run(p)
    assert.deepEqual(await visible(dir, 'out'), range(0, 80).map((n) => n * 2))
  })
})
