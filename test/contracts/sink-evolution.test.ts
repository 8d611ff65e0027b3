import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { contract, pipeline, run, sink, source, withContract, type Sink } from '../../src/index.ts'
import { contractColumns } from '../../src/connectors/parquet/contract-schema.ts'
import { freshSchema, pgService, pgUrl, sql } from '../connectors/postgres/pg-test-support.ts'

// Version 2 adds an optional field: a backward-compatible change.
const v1 = contract({ name: 'bids', version: 1, schema: { type: 'object', properties: { auction: { type: 'integer' }, price: { type: 'number' } }, required: ['auction', 'price'] } })
const v2 = contract({ name: 'bids', version: 2, schema: { type: 'object', properties: { auction: { type: 'integer' }, price: { type: 'number' }, channel: { type: ['string', 'null'] } }, required: ['auction', 'price'] } })

async function duck(sqlText: string): Promise<Record<string, unknown>[]> {
  const c = await (await DuckDBInstance.create(':memory:')).connect()
  try {
    return (await c.runAndReadAll(sqlText)).getRowObjectsJson() as Record<string, unknown>[]
  } finally {
    c.closeSync()
  }
}

async function write(name: string, to: Sink<any>, rows: object[]): Promise<void> {
  const p = pipeline(name)
  p.from(source.collection(rows)).to(to)
  assert.equal((await run(p)).status, 'finished')
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-sink-evolution-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('contract columns: JSON Schema, zod-style nullable and Avro fields map to sink column types', () => {
  assert.deepEqual(contractColumns(v2.schemaText), { auction: 'int64', price: 'double', channel: 'string' })
  const avro = contract({ name: 'a', schema: { type: 'record', name: 'A', fields: [{ name: 'id', type: 'long' }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }, { name: 'kind', type: { type: 'enum', name: 'K', symbols: ['x'] } }, { name: 'note', type: ['null', 'string'], default: null }, { name: 'tags', type: { type: 'array', items: 'string' } }] } })
  assert.deepEqual(contractColumns(avro.schemaText), { id: 'int64', at: 'timestamp', kind: 'string', note: 'string', tags: 'json' })
  assert.deepEqual(contractColumns({ schemaType: 'JSON', schema: '{"properties":{"n":{"anyOf":[{"type":"integer"},{"type":"null"}]},"o":{"type":"object"}}}' }), { n: 'int64', o: 'json' })
})

test('sink.parquet takes its schema from the contract: each new file carries the version it was written with', async (t) => {
  const dir = await tempDir(t)
  const columns = async (f: string) => (await duck(`DESCRIBE SELECT * FROM read_parquet('${f}')`)).map((r) => `${r.column_name} ${r.column_type}`)
  await write('pq-v1', withContract(sink.parquet(join(dir, 'v1.parquet')), v1), [{ auction: 1, price: 10 }])
  // price 10 alone would infer an integer column; the contract says number
  assert.deepEqual(await columns(join(dir, 'v1.parquet')), ['auction BIGINT', 'price DOUBLE'])
  await write('pq-v2', withContract(sink.parquet(join(dir, 'v2.parquet')), v2), [{ auction: 2, price: 20 }, { auction: 3, price: 30, channel: 'web' }])
  assert.deepEqual(await columns(join(dir, 'v2.parquet')), ['auction BIGINT', 'price DOUBLE', 'channel VARCHAR'])
  assert.deepEqual(await duck(`SELECT auction, channel FROM read_parquet('${dir}/*.parquet', union_by_name = true) ORDER BY auction`), [
    { auction: '1', channel: null },
    { auction: '2', channel: null },
    { auction: '3', channel: 'web' },
  ])
  // no records: the file still has the contract's columns
  await write('pq-empty', withContract(sink.parquet(join(dir, 'empty.parquet')), v2), [])
  assert.deepEqual(await columns(join(dir, 'empty.parquet')), ['auction BIGINT', 'price DOUBLE', 'channel VARCHAR'])
})

test("sink.duckdb adds the nullable columns a compatible new version of the sink's contract adds, before any record has them", async (t) => {
  const file = join(await tempDir(t), 'bids.duckdb')
  await write('duck-v1', withContract(sink.duckdb(file, 'bids'), v1), [{ auction: 1, price: 10 }])
  await write('duck-v2', withContract(sink.duckdb(file, 'bids'), v2), [{ auction: 2, price: 20 }])
  const c = await (await DuckDBInstance.fromCache(file)).connect()
  try {
    const cols = (await c.runAndReadAll(`SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'bids' ORDER BY ordinal_position`)).getRowObjectsJson()
    assert.deepEqual(cols, [
      { column_name: 'auction', data_type: 'BIGINT', is_nullable: 'YES' },
      { column_name: 'price', data_type: 'DOUBLE', is_nullable: 'YES' },
      { column_name: 'channel', data_type: 'VARCHAR', is_nullable: 'YES' },
    ])
  } finally {
    c.closeSync()
  }
  await write('duck-v2b', withContract(sink.duckdb(file, 'bids'), v2), [{ auction: 3, price: 30, channel: 'app' }])
  const c2 = await (await DuckDBInstance.fromCache(file)).connect()
  try {
    assert.deepEqual((await c2.runAndReadAll('SELECT auction, channel FROM bids ORDER BY auction')).getRowObjectsJson(), [
      { auction: '1', channel: null },
      { auction: '2', channel: null },
      { auction: '3', channel: 'app' },
    ])
  } finally {
    c2.closeSync()
  }
})

test("sink.postgres adds the nullable columns a compatible new version of the sink's contract adds", { skip: pgService.skip }, async () => {
  const schema = await freshSchema('evolve')
  await write('pg-v1', withContract(sink.postgres({ url: pgUrl(), schema, table: 'bids' }), v1), [{ auction: 1, price: 10 }])
  await write('pg-v2', withContract(sink.postgres({ url: pgUrl(), schema, table: 'bids' }), v2), [{ auction: 2, price: 20 }])
  assert.deepEqual(await sql(`SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'bids' ORDER BY ordinal_position`, [schema]), [
    { column_name: 'auction', data_type: 'bigint', is_nullable: 'YES' },
    { column_name: 'price', data_type: 'double precision', is_nullable: 'YES' },
    { column_name: 'channel', data_type: 'text', is_nullable: 'YES' },
  ])
  assert.deepEqual(await sql(`SELECT auction::int, channel FROM ${schema}.bids ORDER BY auction`), [
    { auction: 1, channel: null },
    { auction: 2, channel: null },
  ])
})
