import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { agg, pipeline, run, sink, source, start, SluiceError } from '../../../src/index.ts'
import type { SinkContext } from '../../../src/core/sink.ts'
import { DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE } from '../../../src/core/batch.ts'
import { postgresSink } from '../../../src/connectors/postgres/sink.ts'
import { preparedPrefix } from '../../../src/connectors/postgres/prepared-table.ts'
import { freshSchema, pgService, pgUrl, sql } from './pg-test-support.ts'

const skip = pgService.skip
const ctx = (checkpointing: boolean): SinkContext => ({ pipeline: 'pgtest', stepId: 'sink-postgres-1', subtask: 0, checkpointing })

test('without checkpoints: a table created from the first batch, typed columns, COPY-safe text', { skip }, async () => {
  const schema = await freshSchema('types')
  const at = Date.UTC(2024, 4, 1, 9)
  const rows = [
    { id: 1, price: 2.5, name: 'tab\there\nnew \\ line', ok: true, ts: new Date(at), tags: ['x'] },
    { id: 2, price: 3, name: null, ok: false, ts: new Date(at + 1000), tags: { k: 1 } },
  ]
  const p = pipeline('pg-plain')
  p.from(source.collection(rows)).to(sink.postgres({ url: pgUrl(), schema, table: 'items' }))
  assert.equal((await run(p)).status, 'finished')
  const types = await sql(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'items' ORDER BY ordinal_position`, [schema])
  assert.deepEqual(types.map((t) => `${t.column_name}:${t.data_type}`), ['id:bigint', 'price:double precision', 'name:text', 'ok:boolean', 'ts:timestamp with time zone', 'tags:jsonb'])
  const got = await sql(`SELECT id::int AS id, price, name, ok, (extract(epoch from ts) * 1000)::bigint::text AS ms, tags::text AS tags FROM ${schema}.items ORDER BY id`)
  assert.deepEqual(got, [
    { id: 1, price: 2.5, name: 'tab\there\nnew \\ line', ok: true, ms: String(at), tags: '["x"]' },
    { id: 2, price: 3, name: null, ok: false, ms: String(at + 1000), tags: '{"k": 1}' },
  ])
  await run(p) // plain inserts: a second run appends (at-least-once without checkpoints or key)
  assert.deepEqual(await sql(`SELECT count(*)::int AS n FROM ${schema}.items`), [{ n: 4 }])
})

test('COPY binary into the sink\'s own types and COPY text into a table made elsewhere give the same rows', { skip }, async () => {
  const schema = await freshSchema('binary')
  await sql(`CREATE TABLE ${schema}.other (id INTEGER, price REAL, name VARCHAR(200), ok BOOLEAN, ts TIMESTAMPTZ, tags JSON)`)
  const before2000 = Date.UTC(1969, 11, 31, 23, 59, 59, 7)
  const rows: { id: number; price: number | null; name: string; ok: boolean | null; ts: Date | null; tags: unknown }[] = [
    { id: -5_000_000_001, price: -0.25, name: 'zürich ☃ 🎉', ok: true, ts: new Date(before2000), tags: { é: [1, 'ü'] } },
    { id: 9_007_199_254_740_991, price: 1e300, name: 'x'.repeat(70) + 'é', ok: false, ts: new Date(Date.UTC(2031, 0, 2, 3, 4, 5, 678)), tags: null },
    { id: 3, price: null, name: '', ok: null, ts: null, tags: [] },
  ]
  const small = rows.map((r, i) => ({ ...r, id: i, price: r.price === 1e300 ? 2 : r.price }))
  const mine = await sink.postgres<Record<string, unknown>>({ url: pgUrl(), schema, table: 'mine' }).open(ctx(false))
  await mine.write({ values: rows, times: [0, 0, 0] })
  await mine.close()
  const other = await sink.postgres<Record<string, unknown>>({ url: pgUrl(), schema, table: 'other' }).open(ctx(false))
  await other.write({ values: small, times: [0, 0, 0] })
  await other.close()
  const read = (t: string) => sql(`SELECT id::text AS id, price::float8 AS price, name, ok, (extract(epoch from ts) * 1000)::bigint::text AS ms, tags::jsonb::text AS tags FROM ${schema}.${t} ORDER BY id::bigint`)
  const want = (rs: typeof rows) =>
    rs.map((r) => ({ id: String(r.id), price: r.price, name: r.name, ok: r.ok, ms: r.ts === null ? null : String(r.ts.getTime()), tags: r.tags === null ? null : JSON.stringify(r.tags).replaceAll(':', ': ').replaceAll(',', ', ') }))
  assert.deepEqual(await read('mine'), want(rows).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id))))
  assert.deepEqual(await read('other'), want(small))
})

test('staged with checkpoints, two checkpoints pending: each commit moves its own rows, into the sink\'s own types and into a table made elsewhere', { skip }, async () => {
  const schema = await freshSchema('stagedmove')
  await sql(`CREATE TABLE ${schema}.other (id INTEGER, price REAL, name VARCHAR(200), ok BOOLEAN, ts TIMESTAMPTZ, tags JSON)`)
  const rows = [
    { id: 1, price: -0.25, name: 'tab\there \\ zürich ☃', ok: true, ts: new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 7)), tags: { é: [1, 'ü'] } },
    { id: 2, price: null, name: '', ok: null, ts: null, tags: null },
    { id: 3, price: 2, name: 'x'.repeat(70), ok: false, ts: new Date(Date.UTC(2031, 0, 2, 3, 4, 5, 678)), tags: [] },
  ]
  for (const table of ['mine', 'other']) {
    const w = await sink.postgres<Record<string, unknown>>({ url: pgUrl(), schema, table, prepared: false }).open(ctx(true))
    await w.recover!([])
    await w.write({ values: rows.slice(0, 2), times: [0, 0] })
    const h1 = await w.preCommit!(1)
    await w.write({ values: rows.slice(2), times: [0] })
    const h2 = await w.preCommit!(2)
    await w.commit!(1, h1)
    assert.deepEqual(await sql(`SELECT id::int AS id FROM ${schema}.${table} ORDER BY id`), [{ id: 1 }, { id: 2 }], 'checkpoint 1 alone')
    await w.commit!(2, h2)
    await w.commit!(2, h2)
    await w.close()
  }
  const read = (t: string) => sql(`SELECT id::int AS id, price::float8 AS price, name, ok, (extract(epoch from ts) * 1000)::bigint::text AS ms, tags::jsonb::text AS tags FROM ${schema}.${t} ORDER BY id`)
  const want = rows.map((r) => ({ id: r.id, price: r.price, name: r.name, ok: r.ok, ms: r.ts === null ? null : String(r.ts.getTime()), tags: r.tags === null ? null : JSON.stringify(r.tags).replaceAll(':', ': ').replaceAll(',', ', ') }))
  assert.deepEqual(await read('mine'), want)
  assert.deepEqual(await read('other'), want)
  assert.deepEqual(await sql(`SELECT count(*)::int AS n FROM ${schema}._sluice_staging_pgtest_sink_postgres_1_0`), [{ n: 0 }], 'nothing left staged')
})

test('records that gain fields add nullable columns; a field of another type is an error naming the step', { skip }, async () => {
  const schema = await freshSchema('evolve')
  const w = await sink.postgres<Record<string, unknown>>({ url: pgUrl(), schema, table: 'ev' }).open(ctx(false))
  await w.write({ values: [{ id: 1 }, { id: 2 }], times: [0, 0] })
  await w.write({ values: [{ id: 3, label: 'c' }, { id: 4 }], times: [0, 0] })
  await w.close()
  assert.deepEqual(await sql(`SELECT id::int AS id, label FROM ${schema}.ev ORDER BY id`), [
    { id: 1, label: null },
    { id: 2, label: null },
    { id: 3, label: 'c' },
    { id: 4, label: null },
  ])
  const w2 = await sink.postgres<Record<string, unknown>>({ url: pgUrl(), schema, table: 'ev' }).open(ctx(false))
  await assert.rejects(
    async () => w2.write({ values: [{ id: 'five' }], times: [0] }),
    (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SCHEMA_MISMATCH' && e.step === 'sink-postgres-1' && e.message.includes("'id'") && !e.message.includes('five'),
  )
  await w2.close()
  const strict = await sink.postgres<Record<string, unknown>>({ url: pgUrl(), schema, table: 'ev', evolve: false }).open(ctx(false))
  await assert.rejects(async () => strict.write({ values: [{ id: 6, extra: 1 }], times: [0] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SCHEMA_MISMATCH')
  await strict.close()
})

test('with a key, a changelog is applied: each key ends at its last change, retractions delete', { skip }, async () => {
  const schema = await freshSchema('changelog')
  const w = await sink.postgres<{ k: string; v: number }>({ url: pgUrl(), schema, table: 'kv', key: ['k'] }).open(ctx(true))
  await w.recover!([])
  await w.write({ values: [{ k: 'a', v: 1 }, { k: 'b', v: 1 }, { k: 'a', v: 1 }, { k: 'a', v: 2 }], times: [0, 0, 0, 0], kinds: [INSERT, INSERT, UPDATE_BEFORE, UPDATE_AFTER] })
  const h1 = await w.preCommit!(1)
  assert.deepEqual(await sql(`SELECT count(*)::int AS n FROM ${schema}.kv`), [{ n: 0 }], 'nothing visible before the commit')
  await w.commit!(1, h1)
  assert.deepEqual(await sql(`SELECT k, v::int AS v FROM ${schema}.kv ORDER BY k`), [{ k: 'a', v: 2 }, { k: 'b', v: 1 }])
  await w.write({ values: [{ k: 'b', v: 1 }, { k: 'c', v: 7 }], times: [0, 0], kinds: [DELETE, INSERT] })
  const h2 = await w.preCommit!(2)
  await w.commit!(2, h2)
  await w.commit!(2, h2)
  await w.close()
  assert.deepEqual(await sql(`SELECT k, v::int AS v FROM ${schema}.kv ORDER BY k`), [{ k: 'a', v: 2 }, { k: 'c', v: 7 }])
  const pk = await sql(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '${schema}.kv'::regclass AND i.indisprimary`)
  assert.deepEqual(pk, [{ attname: 'k' }])
})

test('a keyed aggregate through checkpoints into Postgres gives one row per key equal to the sum', { skip }, async () => {
  const schema = await freshSchema('agg')
  const events = Array.from({ length: 500 }, (_, i) => ({ user: `u${i % 7}`, amount: (i * 7) % 5 }))
  const dir = await mkdtemp(join(tmpdir(), 'sluice-pg-agg-'))
  try {
    const p = pipeline('pg-totals', { batchSize: 16 })
    p.from(source.collection(events))
      .keyBy((e) => e.user)
      .aggregate(agg.sum((e: { amount: number }) => e.amount))
      .map((t) => ({ user: t.key, total: t.value }))
      .to(sink.postgres({ url: pgUrl(), schema, table: 'totals', key: ['user'] }))
    const s = await run(p, { checkpoint: { dir: join(dir, 'chk'), intervalMs: 1 } })
    assert.equal(s.status, 'finished')
    const want = new Map<string, number>()
    for (const e of events) want.set(e.user, (want.get(e.user) ?? 0) + e.amount)
    assert.deepEqual(await sql(`SELECT "user", total::int AS total FROM ${schema}.totals ORDER BY "user"`), [...want].sort().map(([user, total]) => ({ user, total })))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('append-only with checkpoints: rows wait in a prepared transaction; new columns while one is pending go through the staging table', { skip }, async (t) => {
  const [{ max }] = await sql("SELECT current_setting('max_prepared_transactions') AS max")
  if (Number(max) === 0) return t.skip('the server allows no prepared transactions (max_prepared_transactions = 0): the staged path is tested by the conformance suite')
  const schema = await freshSchema('prepared')
  // Only this sink's prepared transactions: other tests running at the same time prepare their own.
  const [{ db }] = await sql('SELECT current_database() AS db')
  const prefix = preparedPrefix(String(db), schema, 'ev', `${ctx(true).pipeline}/${ctx(true).stepId}/${ctx(true).subtask}`)
  const pending = async () => (await sql(`SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)`, [prefix])).length
  assert.equal(await pending(), 0, 'a fresh schema has no prepared transactions')
  // A prepared transaction left by a failed run would outlive it on the server, holding back every logical
  // replication slot created after it (the CDC tests): whatever happens, this test's own are rolled back.
  t.after(async () => {
    for (const { gid } of await sql(`SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)`, [prefix])) {
      await sql(`ROLLBACK PREPARED '${String(gid).replace(/'/g, "''")}'`)
    }
  })
  const w = await sink.postgres<Record<string, unknown>>({ url: pgUrl(), schema, table: 'ev' }).open(ctx(true))
  await w.recover!([])
  await w.write({ values: [{ id: 1 }, { id: 2 }], times: [0, 0] })
  const h1 = await w.preCommit!(1)
  assert.equal(await pending(), 1, 'the barrier prepared a transaction')
  assert.deepEqual(await sql(`SELECT count(*)::int AS n FROM ${schema}.ev`), [{ n: 0 }], 'nothing visible before the commit')
  assert.deepEqual(await sql(`SELECT count(*)::int AS n FROM ${schema}._sluice_staging_pgtest_sink_postgres_1_0`), [{ n: 0 }], 'nothing staged')
  // A new field while checkpoint 1 is prepared: the table is locked until its commit, so the rows are staged.
  await w.write({ values: [{ id: 3, label: 'c' }], times: [0] })
  const h2 = await w.preCommit!(2)
  await w.commit!(1, h1)
  await w.commit!(2, h2)
  await w.commit!(2, h2)
  await w.write({ values: [{ id: 4, label: 'd' }], times: [0] })
  const h3 = await w.preCommit!(3)
  await w.close()
  // A restart from checkpoint 3 completes it; one from scratch would have rolled it back.
  const again = await sink.postgres<Record<string, unknown>>({ url: pgUrl(), schema, table: 'ev' }).open(ctx(true))
  await again.recover!([{ subtask: 0, checkpointId: 3, handle: h3 }])
  await again.close()
  assert.equal(await pending(), 0)
  assert.deepEqual(await sql(`SELECT id::int AS id, label FROM ${schema}.ev ORDER BY id`), [
    { id: 1, label: null },
    { id: 2, label: null },
    { id: 3, label: 'c' },
    { id: 4, label: 'd' },
  ])
})

test("the bytes sent with COPY are the step's bytesOut, with and without checkpoints", { skip }, async () => {
  const schema = await freshSchema('bytes')
  const dir = await mkdtemp(join(tmpdir(), 'sluice-pg-bytes-'))
  try {
    for (const checkpoint of [undefined, { dir, intervalMs: 50 }]) {
      const p = pipeline('pg-bytes')
      p.from(source.collection(Array.from({ length: 500 }, (_, i) => ({ id: i, name: `n${i}` })))).to(sink.postgres({ url: pgUrl(), schema, table: checkpoint === undefined ? 'plain' : 'chk' }))
      const job = start(p, checkpoint === undefined ? {} : { checkpoint })
      assert.equal((await job.done).status, 'finished')
      const out = job.metrics().steps.find((t) => t.kind === 'sink-postgres' || t.kind === 'postgres')
      assert.ok(out !== undefined, job.metrics().steps.map((t) => t.kind).join(', '))
      // 500 rows of two columns: at least 16 bytes each in COPY binary (two field lengths and the id).
      assert.ok(out.bytesOut >= 500 * 16, `bytesOut ${out.bytesOut}`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('options are checked when the sink is made, and the url password never reaches describe', () => {
  assert.throws(() => sink.postgres({ url: '', table: 't' }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_ARGUMENT')
  assert.throws(() => sink.postgres({ url: 'postgres://x@h/db', table: '_sluice_checkpoints' }), (e: unknown) => e instanceof SluiceError)
  assert.throws(() => sink.postgres({ url: 'postgres://x@h/db', table: 't', key: [] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
  const d = sink.postgres({ url: 'postgres://app:secret@h:5432/db', table: 't', key: ['id'] }).describe()
  assert.ok(!JSON.stringify(d).includes('secret'))
})

test('no prepared transactions on the server: rows wait in an open transaction, and a restart never moves rows of a committed checkpoint left staged', { skip }, async () => {
  const schema = await freshSchema('mirrored')
  const staging = `${schema}._sluice_staging_pgtest_sink_postgres_1_0`
  const open = () => postgresSink<{ n: number }>({ url: pgUrl(), schema, table: 'rows', columns: { n: 'int64' } }, async () => false).open(ctx(true))
  const batch = (from: number, to: number) => ({ values: Array.from({ length: to - from }, (_, i) => ({ n: from + i })), times: new Array<number>(to - from).fill(0) })
  const count = async () => (await sql(`SELECT count(*)::int AS n FROM ${schema}.rows`))[0].n
  const a = await open()
  await a.recover!([])
  await a.write(batch(0, 100))
  const h1 = await a.preCommit!(1)
  assert.equal(await count(), 0, 'nothing visible before the commit')
  await a.write(batch(100, 250))
  const h2 = await a.preCommit!(2)
  await sql(`CREATE TABLE ${schema}.kept AS SELECT * FROM ${staging} WHERE _sluice_seq < 100`)
  await a.commit!(1, h1)
  assert.equal(await count(), 100, 'checkpoint 1 alone')
  // A crash between checkpoint 1's transaction and its clean-up leaves its rows staged; checkpoint 2 is not committed.
  await sql(`INSERT INTO ${staging} SELECT * FROM ${schema}.kept`)
  await a.close()
  const b = await open()
  try {
    await b.recover!([{ subtask: 0, checkpointId: 2, handle: h2 }])
    assert.deepEqual(await sql(`SELECT count(*)::int AS n, count(DISTINCT n)::int AS d, max(n)::int AS hi FROM ${schema}.rows`), [{ n: 250, d: 250, hi: 249 }])
    assert.deepEqual(await sql(`SELECT count(*)::int AS n FROM ${staging}`), [{ n: 0 }], 'nothing left staged')
  } finally {
    await b.close()
  }
})
