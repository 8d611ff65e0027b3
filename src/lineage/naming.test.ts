import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { pipeline, sink, source } from '../index.ts'
import type { Sink } from '../core/sink.ts'
import type { Source } from '../core/source.ts'
import { datasetsOf } from './naming.ts'

/** The datasets of each source and sink step of a one-source, one-sink pipeline. */
function named(src: Source<any>, out: Sink<any>, cwd = '/srv'): { input: unknown; output: unknown } {
  const p = pipeline('naming')
  p.from(src).to(out)
  const of = (role: string) => p.nodes.filter((n) => n.impl.role === role).flatMap((n) => datasetsOf(n, cwd))
  return { input: of('source'), output: of('sink') }
}

const gen = () => source.generator({ count: 1, make: (g) => ({ n: g.seq }) })

test('files are named by their absolute path under the file namespace, whatever their format', () => {
  assert.deepEqual(named(source.jsonl('in/a.jsonl'), sink.jsonl('/data/out.jsonl')), { input: [{ namespace: 'file', name: join('/srv', 'in/a.jsonl') }], output: [{ namespace: 'file', name: '/data/out.jsonl' }] })
  assert.deepEqual(named(source.csv('a.csv'), sink.parquet('out')).input, [{ namespace: 'file', name: '/srv/a.csv' }])
  assert.deepEqual(named(source.parquet('a.parquet'), sink.avro('b.avro', { schema: { type: 'record', name: 'R', fields: [{ name: 'n', type: 'long' }] } })), { input: [{ namespace: 'file', name: '/srv/a.parquet' }], output: [{ namespace: 'file', name: '/srv/b.avro' }] })
})

test('the embedded log: its folder in the namespace, the topic as the name', () => {
  assert.deepEqual(named(source.log('state/log', 'clicks'), sink.log('/var/log-b', 'views')), { input: [{ namespace: 'sluice-log:///srv/state/log', name: 'clicks' }], output: [{ namespace: 'sluice-log:///var/log-b', name: 'views' }] })
})

test('Kafka: the first broker, one dataset per topic', () => {
  const r = named(source.kafka({ brokers: ['127.0.0.1:9092', 'b2:9092'], topics: ['clicks', 'views'], group: 'g' }), sink.kafka({ brokers: 'k1:9093,k2:9093', topic: 'out' }))
  assert.deepEqual(r, { input: [{ namespace: 'kafka://127.0.0.1:9092', name: 'clicks' }, { namespace: 'kafka://127.0.0.1:9092', name: 'views' }], output: [{ namespace: 'kafka://k1:9093', name: 'out' }] })
})

test('Postgres: host and port, then database.schema.table; no user name or password', () => {
  const r = named(source.postgresCdc({ url: 'postgres://app:secret@db.local:6543/shop', slot: 's', publication: 'p', tables: ['orders', 'audit.events'] }), sink.postgres({ url: 'postgres://app:secret@db.local/shop', table: 'totals' }))
  assert.deepEqual(r, {
    input: [{ namespace: 'postgres://db.local:6543', name: 'shop.public.orders' }, { namespace: 'postgres://db.local:6543', name: 'shop.audit.events' }],
    output: [{ namespace: 'postgres://db.local:5432', name: 'shop.public.totals' }],
  })
  assert.ok(!JSON.stringify(r).includes('secret') && !JSON.stringify(r).includes('app'))
})

test('S3: the bucket as namespace and the prefix as the name; DuckDB: the database file and main.<table>', () => {
  assert.deepEqual(named(gen(), sink.s3({ bucket: 'lake', prefix: 'sessions/daily', format: 'jsonl' })).output, [{ namespace: 's3://lake', name: 'sessions/daily' }])
  assert.deepEqual(named(gen(), sink.s3({ bucket: 'lake', format: 'parquet' })).output, [{ namespace: 's3://lake', name: '/' }])
  assert.deepEqual(named(gen(), sink.duckdb('db/shop.duckdb', 'totals')).output, [{ namespace: 'duckdb:///srv/db/shop.duckdb', name: 'main.totals' }])
})

test('generators, collections, the console and the blackhole are not datasets', () => {
  assert.deepEqual(named(gen(), sink.console()), { input: [], output: [] })
  assert.deepEqual(named(source.collection([1]), sink.blackhole()), { input: [], output: [] })
})
