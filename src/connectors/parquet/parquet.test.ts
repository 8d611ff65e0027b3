import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { agg, pipeline, run, sink, source, SluiceError } from '../../index.ts'
import type { SinkContext, SinkWriter } from '../../core/sink.ts'
import { committedParts, STAGING_DIR } from '../files/part-files.ts'
import { withTempDir } from '../files/test-support.ts'
import { inferSchema } from './schema.ts'

const ctx: SinkContext = { pipeline: 'test', stepId: 'sink-parquet-1', subtask: 0, checkpointing: true }

/** Rows of Parquet files read back by DuckDB, as JSON values (BIGINT as strings), in file then row order. */
async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

const list = (files: string[]) => `[${files.map((f) => `'${f}'`).join(', ')}]`

async function ns(dir: string): Promise<number[]> {
  const files = await committedParts(dir, 'parquet')
  if (files.length === 0) return []
  return (await query(`SELECT n FROM read_parquet(${list(files)}, filename = true) ORDER BY filename, file_row_number`)).map((r) => Number(r.n))
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)

function batch(from: number, n: number) {
  const values = Array.from({ length: n }, (_, i) => ({ n: from + i }))
  return { values, times: values.map(() => 0) }
}

const open = (dir: string, rowGroupSize?: number): Promise<SinkWriter<{ n: number }>> =>
  sink.parquet<{ n: number }>(dir, rowGroupSize === undefined ? {} : { rowGroupSize }).open(ctx) as Promise<SinkWriter<{ n: number }>>

test('without checkpoints: one file of typed, nullable columns, written at close, read back by DuckDB', async () => {
  await withTempDir(async (tmp) => {
    const path = join(tmp, 'sub', 'rows.parquet')
    const w = await sink.parquet(path, { rowGroupSize: 2 }).open({ ...ctx, checkpointing: false })
    const at = Date.UTC(2024, 4, 1, 9, 0, 0)
    await w.write({
      values: [
        { id: 1, price: 2.5, name: 'a', ok: true, ts: new Date(at), tags: ['x'] },
        { id: 2, price: 3, name: null, ok: false, ts: new Date(at + 1000), tags: { k: 1 } },
        { id: 3, price: null, ok: true, ts: new Date(at + 2000), tags: null },
      ],
      times: [0, 0, 0],
    })
    assert.equal(existsSync(path), false, 'the file appears at close')
    await w.write({ values: [{ id: 4n, price: -1, name: 'd', ok: null, ts: new Date(at + 3000), tags: [] }], times: [0] })
    await w.close()
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}'))`)
    assert.deepEqual(
      types.map((t) => `${t.column_name}:${t.column_type}`),
      ['id:BIGINT', 'price:DOUBLE', 'name:VARCHAR', 'ok:BOOLEAN', 'ts:TIMESTAMP WITH TIME ZONE', 'tags:JSON'],
    )
    const rows = await query(`SELECT id, price, name, ok, epoch_ms(ts) AS ts, CAST(tags AS VARCHAR) AS tags FROM read_parquet('${path}')`)
    assert.deepEqual(rows, [
      { id: '1', price: 2.5, name: 'a', ok: true, ts: String(at), tags: '["x"]' },
      { id: '2', price: 3, name: null, ok: false, ts: String(at + 1000), tags: '{"k":1}' },
      { id: '3', price: null, name: null, ok: true, ts: String(at + 2000), tags: null },
      { id: '4', price: -1, name: 'd', ok: null, ts: String(at + 3000), tags: '[]' },
    ])
    const groups = await query(`SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata('${path}')`)
    assert.deepEqual(groups, [{ n: '2' }])
    assert.deepEqual(await readdir(join(tmp, 'sub')), ['rows.parquet'])
  })
})

test('row groups hold exactly rowGroupSize rows, whatever the batches (the last group holds the rest)', async () => {
  await withTempDir(async (tmp) => {
    const path = join(tmp, 'rows.parquet')
    const w = await sink.parquet<{ n: number }>(path, { rowGroupSize: 100 }).open({ ...ctx, checkpointing: false })
    for (let b = 0; b < 16; b++) await w.write(batch(b * 64, 64))
    await w.close()
    const groups = await query(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${path}') ORDER BY row_group_id`)
    assert.deepEqual(groups.map((g) => Number(g.row_group_num_rows)), [...Array.from({ length: 10 }, () => 100), 24])
    assert.deepEqual((await query(`SELECT n FROM read_parquet('${path}')`)).map((r) => Number(r.n)), range(0, 1024))
  })
})

test('a declared schema: timestamps from epoch ms, values that are not objects go to a value column', async () => {
  await withTempDir(async (tmp) => {
    const path = join(tmp, 'a.parquet')
    const w = await sink.parquet(path, { schema: { ts: 'timestamp', v: 'double' } }).open({ ...ctx, checkpointing: false })
    await w.write({ values: [{ ts: 1000, v: 1 }, { v: 2.5 }], times: [0, 0] })
    await w.close()
    assert.deepEqual(await query(`SELECT epoch_ms(ts) AS ts, v FROM read_parquet('${path}')`), [
      { ts: '1000', v: 1 },
      { ts: null, v: 2.5 },
    ])
    const p2 = join(tmp, 'b.parquet')
    const w2 = await sink.parquet<string>(p2).open({ ...ctx, checkpointing: false })
    await w2.write({ values: ['x', 'y'], times: [0, 0] })
    await w2.close()
    assert.deepEqual(await query(`SELECT value FROM read_parquet('${p2}')`), [{ value: 'x' }, { value: 'y' }])
  })
})

test('a record that does not fit the schema is a SluiceError naming the step and the field', async () => {
  await withTempDir(async (tmp) => {
    const w = await sink.parquet(join(tmp, 'x.parquet'), { schema: { id: 'int64', name: 'string' } }).open({ ...ctx, checkpointing: false })
    const fails = (field: string) => (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SCHEMA_MISMATCH' && e.step === 'sink-parquet-1' && e.message.includes(`'${field}'`)
    assert.throws(() => w.write({ values: [{ id: 1, name: 'a' }, { id: 1.5, name: 'b' }], times: [0, 0], pos: ['f:1', 'f:2'] }), (e: unknown) => fails('id')(e) && (e as SluiceError).position === 'f:2')
    assert.throws(() => w.write({ values: [{ id: 2, name: 'b', extra: true }], times: [0] }), fails('extra'))
    assert.throws(() => w.write({ values: [{ id: 2, name: 7 }], times: [0] }), fails('name'))
    // The rows before the bad one stay; the bad ones left nothing half-written.
    await w.write({ values: [{ id: 3, name: 'c', extra: undefined }], times: [0] })
    await w.close()
    assert.deepEqual(await query(`SELECT id, name FROM read_parquet('${join(tmp, 'x.parquet')}')`), [
      { id: '1', name: 'a' },
      { id: '3', name: 'c' },
    ])
    assert.throws(() => inferSchema({ values: [{ a: null }], times: [0] }, ctx.stepId), fails('a'))
    assert.throws(() => inferSchema({ values: [{ a: 1 }, { a: 'x' }], times: [0, 0] }, ctx.stepId), fails('a'))
    assert.deepEqual(inferSchema({ values: [{ a: 1 }, { a: 1.5, b: null }, { b: false }], times: [0, 0, 0] }, ctx.stepId), { a: 'double', b: 'boolean' })
    assert.throws(() => sink.parquet('x', { schema: { a: 'int' as 'int64' } }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
  })
})

test('with checkpoints, rows become visible as one part file per checkpoint when it commits', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'out')
    const w = await open(dir, 4)
    await w.recover!([])
    await w.write(batch(0, 5))
    await w.write(batch(5, 5))
    const h1 = await w.preCommit!(1)
    assert.deepEqual(await ns(dir), [])
    await w.commit!(1, h1)
    assert.deepEqual(await ns(dir), range(0, 10))
    await w.commit!(2, await w.preCommit!(2))
    await w.write(batch(10, 3))
    await w.commit!(3, await w.preCommit!(3))
    await w.close()
    assert.deepEqual(await ns(dir), range(0, 13))
    assert.deepEqual((await readdir(dir)).sort(), [STAGING_DIR, 'part-0-1.parquet', 'part-0-3.parquet'])
    assert.deepEqual(await readdir(join(dir, STAGING_DIR)), [])
  })
})

test('a crash between preCommit and commit: recover commits the restored checkpoint and drops later rows', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'out')
    const a = await open(dir, 1000)
    await a.recover!([])
    await a.write(batch(0, 4))
    const h1 = await a.preCommit!(1)
    await a.write(batch(4, 4))
    await a.preCommit!(2) // checkpoint 2 never completes
    await a.write(batch(8, 5000)) // row groups of the part in progress reach the disk
    // Crash: a is dropped without commit or close.
    assert.ok((await readdir(join(dir, STAGING_DIR))).length > 0)
    const b = await open(dir, 1000)
    await b.recover!([{ subtask: 0, checkpointId: 1, handle: JSON.parse(JSON.stringify(h1)) }])
    assert.deepEqual(await ns(dir), range(0, 4))
    assert.deepEqual(await readdir(join(dir, STAGING_DIR)), [])
    // Recovering again is idempotent.
    await b.recover!([{ subtask: 0, checkpointId: 1, handle: h1 }])
    assert.deepEqual(await ns(dir), range(0, 4))
    // The source rewinds to checkpoint 1's positions: rows 4.. are written again.
    await b.write(batch(4, 8))
    await b.commit!(2, await b.preCommit!(2))
    assert.deepEqual(await ns(dir), range(0, 12))
  })
})

test('end to end with checkpoints: a keyed aggregate writes its changelog with an op column', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'totals')
    const events = Array.from({ length: 300 }, (_, i) => ({ user: `u${i % 7}`, amount: i % 5 }))
    const p = pipeline('parquet-changelog', { batchSize: 16 })
    p.from(source.collection(events))
      .keyBy((e) => e.user)
      .aggregate(agg.sum((e: { amount: number }) => e.amount))
      .map((t) => ({ user: t.key, total: t.value }))
      .to(sink.parquet(dir, { changelog: true, rowGroupSize: 10 }))
    const s = await run(p, { checkpoint: { dir: join(tmp, 'chk'), intervalMs: 1 } })
    assert.equal(s.status, 'finished')
    const files = await committedParts(dir, 'parquet')
    assert.ok(files.length >= 1)
    const rows = await query(`SELECT user, total, op FROM read_parquet(${list(files)}, filename = true) ORDER BY filename, file_row_number`)
    // Replaying the changelog gives the final totals.
    const table = new Map<string, number>()
    for (const r of rows) {
      if (r.op === '+I' || r.op === '+U') table.set(r.user as string, Number(r.total))
      else table.delete(r.user as string)
    }
    const expected = new Map<string, number>()
    for (const e of events) expected.set(e.user, (expected.get(e.user) ?? 0) + e.amount)
    assert.deepEqual([...table].sort(), [...expected].sort())
    assert.ok(rows.some((r) => r.op === '-U'))
    assert.deepEqual(new Set(rows.map((r) => r.op)), new Set(['+I', '-U', '+U']))
  })
})

test('an updating stream without an op column is refused with a hint', async () => {
  await withTempDir(async (tmp) => {
    const w = await sink.parquet(join(tmp, 'x.parquet')).open({ ...ctx, checkpointing: false })
    await w.write({ values: [{ a: 1 }], times: [0] })
    assert.throws(() => w.write({ values: [{ a: 1 }, { a: 2 }], times: [0, 0], kinds: [1, 2] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SCHEMA_MISMATCH' && e.message.includes("'op'"))
  })
})
