import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline, run, sink, source, start, SluiceError } from '../../../src/index.ts'
import type { CdcChange } from '../../../src/connectors/postgres/cdc/changes.ts'
import { freshSchema, pgService, pgUrl, sql } from './pg-test-support.ts'

const skip = pgService.skip

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('a snapshot of the table, then inserts, updates with before images and deletes as a changelog', { skip }, async () => {
  const schema = await freshSchema('cdc')
  await sql(`CREATE TABLE ${schema}.items (id BIGINT PRIMARY KEY, name TEXT, qty INT)`)
  await sql(`ALTER TABLE ${schema}.items REPLICA IDENTITY FULL`)
  await sql(`INSERT INTO ${schema}.items VALUES (1, 'a', 10), (2, 'b', 20)`)
  const out = sink.collect<CdcChange>()
  const p = pipeline('cdc-basic')
  p.from(source.postgresCdc({ url: pgUrl(), slot: `${schema}_slot`, publication: `${schema}_pub`, tables: [`${schema}.items`] })).to(out)
  const stop = new AbortController()
  const running = run(p, { signal: stop.signal })
  try {
    await until(() => out.values.length >= 2, 'the snapshot')
    await sql(`INSERT INTO ${schema}.items VALUES (3, 'c', 30)`)
    await sql(`UPDATE ${schema}.items SET qty = 11 WHERE id = 1`)
    await sql(`DELETE FROM ${schema}.items WHERE id = 2`)
    await until(() => out.values.length >= 6, 'the stream')
  } finally {
    stop.abort()
    await running
  }
  const got = out.records.map((r) => `${r.kind} ${JSON.stringify(r.value.row)}`)
  assert.deepEqual(got.slice(0, 2).sort(), ['+I {"id":1,"name":"a","qty":10}', '+I {"id":2,"name":"b","qty":20}'])
  assert.deepEqual(got.slice(2), ['+I {"id":3,"name":"c","qty":30}', '-U {"id":1,"name":"a","qty":10}', '+U {"id":1,"name":"a","qty":11}', '-D {"id":2,"name":"b","qty":20}'])
  assert.equal(out.values[0].table, `${schema}.items`)
  await sql(`SELECT pg_drop_replication_slot('${schema}_slot')`)
})

test('consumer lag: the WAL bytes between the server and the last transaction emitted', { skip }, async () => {
  const schema = await freshSchema('cdclag')
  await sql(`CREATE TABLE ${schema}.items (id BIGINT PRIMARY KEY, name TEXT)`)
  const reader = await source.postgresCdc({ url: pgUrl(), slot: `${schema}_slot`, publication: `${schema}_pub`, tables: [`${schema}.items`] }).open({ pipeline: 't', stepId: 'source-1', signal: new AbortController().signal, malformed: () => undefined })
  try {
    assert.equal(reader.lagUnit, 'bytes')
    // The snapshot (empty) is read, then the stream starts.
    for (let i = 0; i < 50 && (await reader.read(0, 100)) !== null; i++);
    await sql(`INSERT INTO ${schema}.items SELECT i, repeat('x', 100) FROM generate_series(1, 2000) i`)
    const deadline = Date.now() + 30_000
    while (reader.lag!(0) < 2000 * 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.ok(reader.lag!(0) >= 2000 * 100, `lag ${reader.lag!(0)} bytes, not yet read: 2000 rows of 100 bytes`)
    let read = 0
    while (read < 2000 && Date.now() < deadline) {
      const r = await reader.read(0, 500)
      if (r !== null && typeof r === 'object') read += r.values.length
    }
    assert.equal(read, 2000)
  } finally {
    await reader.close()
    await sql(`SELECT pg_drop_replication_slot('${schema}_slot')`).catch(() => undefined)
  }
})

test("bytes in: the snapshot's rows and the pgoutput messages, in the step's bytesIn after a run", { skip }, async () => {
  const schema = await freshSchema('cdcbytes')
  await sql(`CREATE TABLE ${schema}.items (id BIGINT PRIMARY KEY, name TEXT)`)
  await sql(`INSERT INTO ${schema}.items SELECT i, repeat('s', 100) FROM generate_series(1, 100) i`)
  const out = sink.collect<CdcChange>()
  const p = pipeline('cdc-bytes')
  p.from(source.postgresCdc({ url: pgUrl(), slot: `${schema}_slot`, publication: `${schema}_pub`, tables: [`${schema}.items`] })).to(out)
  const job = start(p)
  const bytesIn = () => job.metrics().steps.find((t) => t.kind === 'source-postgres-cdc')?.bytesIn ?? 0
  try {
    await until(() => out.values.length >= 100, 'the snapshot')
    // 100 rows of 100 characters, each its own data row message.
    await until(() => bytesIn() >= 100 * 100, 'bytesIn of the snapshot')
    const snapshot = bytesIn()
    await sql(`INSERT INTO ${schema}.items SELECT i, repeat('x', 200) FROM generate_series(101, 150) i`)
    await until(() => out.values.length >= 150, 'the stream')
    // 50 insert messages, each with its 200-character value.
    await until(() => bytesIn() >= snapshot + 50 * 200, 'bytesIn of the stream')
  } finally {
    await job.stop()
    await sql(`SELECT pg_drop_replication_slot('${schema}_slot')`).catch(() => undefined)
  }
  assert.ok(bytesIn() >= 100 * 100 + 50 * 200, `bytesIn ${bytesIn()}`)
})

test('options are checked when the source is made', () => {
  assert.throws(() => source.postgresCdc({ url: '', slot: 's', publication: 'p', tables: ['t'] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_ARGUMENT')
  assert.throws(() => source.postgresCdc({ url: 'postgres://h/db', slot: 'Bad-Slot', publication: 'p', tables: ['t'] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
  assert.throws(() => source.postgresCdc({ url: 'postgres://h/db', slot: 's', publication: 'p', tables: [] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
})
