import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline, run, sink, source, SluiceError } from '../../../src/index.ts'
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

test('options are checked when the source is made', () => {
  assert.throws(() => source.postgresCdc({ url: '', slot: 's', publication: 'p', tables: ['t'] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_ARGUMENT')
  assert.throws(() => source.postgresCdc({ url: 'postgres://h/db', slot: 'Bad-Slot', publication: 'p', tables: ['t'] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
  assert.throws(() => source.postgresCdc({ url: 'postgres://h/db', slot: 's', publication: 'p', tables: [] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
})
