import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { agg, pipeline, run, sink, source, SluiceError } from '../../index.ts'
import type { SinkContext, SinkWriter } from '../../core/sink.ts'
import { withTempDir } from '../files/test-support.ts'
import { inferSchema } from '../parquet/schema.ts'

const ctx: SinkContext = { pipeline: 'test', stepId: 'sink-duckdb-1', subtask: 0, checkpointing: true }

async function query(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = await (await DuckDBInstance.fromCache(file)).connect()
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]
  } finally {
    c.closeSync()
  }
}

const ns = async (file: string) => (await query(file, 'SELECT n FROM t ORDER BY n')).map((r) => Number(r.n))
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)

function batch(from: number, n: number) {
  const values = Array.from({ length: n }, (_, i) => ({ n: from + i }))
  return { values, times: values.map(() => 0) }
}

const open = (file: string): Promise<SinkWriter<{ n: number }>> => sink.duckdb<{ n: number }>(file, 't').open(ctx) as Promise<SinkWriter<{ n: number }>>

test('without checkpoints: a table created from the first batch, typed columns, plain inserts', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'db.duckdb')
    const at = Date.UTC(2024, 4, 1, 9)
    const rows = [
      { id: 1, price: 2.5, name: 'a', ok: true, ts: new Date(at), tags: ['x'] },
      { id: 2, price: 3, name: null, ok: false, ts: new Date(at + 1000), tags: { k: 1 } },
    ]
    const p = pipeline('duck-plain')
    p.from(source.collection(rows)).to(sink.duckdb(file, 'items'))
    assert.equal((await run(p)).status, 'finished')
    const types = await query(file, `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position`)
    assert.deepEqual(types.map((t) => `${t.column_name}:${t.data_type}`), ['id:BIGINT', 'price:DOUBLE', 'name:VARCHAR', 'ok:BOOLEAN', 'ts:TIMESTAMP', 'tags:JSON'])
    assert.deepEqual(await query(file, 'SELECT id, price, name, ok, epoch_ms(ts) AS ms, CAST(tags AS VARCHAR) AS tags FROM items ORDER BY id'), [
      { id: '1', price: 2.5, name: 'a', ok: true, ms: String(at), tags: '["x"]' },
      { id: '2', price: 3, name: null, ok: false, ms: String(at + 1000), tags: '{"k":1}' },
    ])
    // Plain inserts: a second run appends (at-least-once without checkpoints or key).
    await run(p)
    assert.deepEqual(await query(file, 'SELECT count(*) AS n FROM items'), [{ n: '4' }])
  })
})

test('a record that does not fit the columns is a SluiceError naming the step and the field', async () => {
  await withTempDir(async (tmp) => {
    const w = await sink.duckdb(join(tmp, 'db.duckdb'), 't', { columns: { n: 'int64' } }).open({ ...ctx, checkpointing: false })
    assert.throws(
      () => w.write({ values: [{ n: 'x' }], times: [0] }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SCHEMA_MISMATCH' && e.step === 'sink-duckdb-1' && e.message.includes("'n'") && e.hint!.includes('columns option'),
    )
    const w2 = await sink.duckdb(join(tmp, 'db.duckdb'), 'u').open({ ...ctx, checkpointing: false })
    assert.throws(() => w2.write({ values: [{ n: 1 }], times: [0], kinds: [3] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
    assert.throws(() => sink.duckdb(join(tmp, 'db.duckdb'), '_sluice_checkpoints'), (e: unknown) => e instanceof SluiceError)
  })
})

test("hints name the sink's real option: columns for DuckDB and Postgres, schema for Parquet", async () => {
  await withTempDir(async (tmp) => {
    const nulls = { values: [{ n: null }], times: [0] }
    const w = await sink.duckdb(join(tmp, 'db.duckdb'), 't').open({ ...ctx, checkpointing: false })
    assert.throws(() => w.write(nulls), (e: unknown) => e instanceof SluiceError && e.hint!.includes('columns option') && !e.hint!.includes('schema'))
    assert.throws(() => sink.duckdb(join(tmp, 'db.duckdb'), 't', { columns: {} }), (e: unknown) => e instanceof SluiceError && e.message.includes('columns option'))
    assert.throws(() => sink.parquet(join(tmp, 'p.parquet'), { schema: {} }), (e: unknown) => e instanceof SluiceError && e.message.includes('schema option'))
    // sink.postgres has a `schema` option as well, but it names the database schema, not the column types.
    assert.throws(() => sink.postgres({ url: 'postgres://localhost/db', table: 't', columns: {} }), (e: unknown) => e instanceof SluiceError && e.message.includes('columns option'))
    assert.throws(() => inferSchema(nulls, 'sink-postgres-1', 'sink.postgres'), (e: unknown) => e instanceof SluiceError && e.hint!.includes('columns option') && !e.hint!.includes('schema'))
  })
})

test("the database's folder is created when missing", async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'out', 'deeper', 'db.duckdb')
    const p = pipeline('duck-folder')
    p.from(source.collection([{ n: 1 }, { n: 2 }])).to(sink.duckdb(file, 't'))
    await run(p)
    assert.deepEqual(await ns(file), [1, 2])
  })
})

test('with checkpoints, rows become visible when their checkpoint commits; commit is idempotent', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'db.duckdb')
    const w = await open(file)
    await w.recover!([])
    await w.write(batch(0, 5))
    const h1 = await w.preCommit!(1)
    assert.deepEqual(await ns(file), [])
    await w.commit!(1, h1)
    assert.deepEqual(await ns(file), range(0, 5))
    await w.commit!(1, h1)
    assert.deepEqual(await ns(file), range(0, 5), 'a second commit of the same checkpoint changes nothing')
    await w.write(batch(5, 3))
    const h2 = await w.preCommit!(2) // never completes: checkpoint 3 commits its rows
    await w.write(batch(8, 2))
    await w.commit!(3, await w.preCommit!(3))
    await w.commit!(2, h2)
    await w.close()
    assert.deepEqual(await ns(file), range(0, 10))
    assert.deepEqual(await query(file, `SELECT checkpoint_id FROM _sluice_checkpoints WHERE sink_id = 'test/sink-duckdb-1/0' ORDER BY 1`), [{ checkpoint_id: '1' }, { checkpoint_id: '2' }, { checkpoint_id: '3' }], 'checkpoint 3 commits 2 first')
    assert.deepEqual(await query(file, 'SELECT count(*) AS n FROM "_sluice_staging_test_sink_duckdb_1_0"'), [{ n: '0' }])
  })
})

test('a crash between preCommit and commit: recover commits the restored checkpoint, drops later rows, and again is a no-op', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'db.duckdb')
    // The crashed writer runs in a process of its own, killed with SIGKILL between phases: what a crash leaves.
    const child = spawnSync(process.execPath, [join(import.meta.dirname, 'fixtures', 'crashing-writer.ts'), file], { encoding: 'utf8', timeout: 300_000 })
    assert.equal(child.signal, 'SIGKILL', child.stderr)
    const h1 = JSON.parse(child.stdout.trim().split('\n')[0]) as unknown
    const b = await open(file)
    await b.recover!([{ subtask: 0, checkpointId: 1, handle: h1 }])
    assert.deepEqual(await ns(file), range(0, 4))
    await b.recover!([{ subtask: 0, checkpointId: 1, handle: h1 }])
    assert.deepEqual(await ns(file), range(0, 4))
    // The source rewinds to checkpoint 1's positions: rows 4.. are written again, and checkpoint 2 commits anew.
    await b.write(batch(4, 8))
    const h2 = await b.preCommit!(2)
    await b.commit!(2, h2)
    assert.deepEqual(await ns(file), range(0, 12))
    // Committed after the crash, then restored from checkpoint 2 again: nothing changes.
    await b.close()
    const c = await open(file)
    await c.recover!([{ subtask: 0, checkpointId: 2, handle: h2 }])
    assert.deepEqual(await ns(file), range(0, 12))
    await c.close()
  })
})

const events = Array.from({ length: 400 }, (_, i) => ({ user: `u${i % 9}`, amount: (i * 7) % 5 }))
const expectedTotals = () => {
  const m = new Map<string, number>()
  for (const e of events) m.set(e.user, (m.get(e.user) ?? 0) + e.amount)
  return [...m].sort().map(([user, total]) => ({ user, total: String(total) }))
}

function totals(file: string) {
  const p = pipeline('duck-totals', { batchSize: 16 })
  p.from(source.collection(events))
    .keyBy((e) => e.user)
    .aggregate(agg.sum((e: { amount: number }) => e.amount))
    .map((t) => ({ user: t.key, total: t.value }))
    .to(sink.duckdb(file, 'totals', { key: (t) => [t.user] }))
  return p
}

test('upsert by key: a keyed aggregate changelog gives one row per key, through checkpoints', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'db.duckdb')
    const s = await run(totals(file), { checkpoint: { dir: join(tmp, 'chk'), intervalMs: 1 } })
    assert.equal(s.status, 'finished')
    assert.ok((s.checkpoints?.completed ?? 0) >= 1)
    assert.deepEqual(await query(file, 'SELECT user, total FROM totals ORDER BY user'), expectedTotals())
    assert.deepEqual(await query(file, 'SELECT count(*) AS n FROM "_sluice_staging_duck_totals_sink_duckdb_1_0"'), [{ n: '0' }])
  })
})

test('upsert by key without checkpoints: running the job again replaces the same rows', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'db.duckdb')
    await run(totals(file))
    await run(totals(file))
    assert.deepEqual(await query(file, 'SELECT user, total FROM totals ORDER BY user'), expectedTotals())
  })
})

test('end to end with checkpoints and no key: every record once', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'db.duckdb')
    const p = pipeline('duck-e2e', { batchSize: 50 })
    p.from(source.collection(range(0, 3000)))
      .map((n) => ({ n }))
      .to(sink.duckdb(file, 't'))
    const s = await run(p, { checkpoint: { dir: join(tmp, 'chk'), intervalMs: 1 } })
    assert.equal(s.status, 'finished')
    assert.deepEqual(await ns(file), range(0, 3000))
  })
})
