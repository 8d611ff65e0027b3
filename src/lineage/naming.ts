import { isAbsolute, resolve } from 'node:path'
import type { StepNode } from '../plan/graph.ts'
import type { DatasetRef } from './openlineage.ts'

/**
 * The dataset a source or sink step reads or writes, named by the OpenLineage naming conventions:
 *
 * | connector | namespace | name |
 * |---|---|---|
 * | files (jsonl, csv, parquet, avro) | `file` | the absolute path |
 * | files on S3 (`s3://bucket/key`) | `s3://<bucket>` | the object key |
 * | `sink.s3` | `s3://<bucket>` | the prefix the objects are written under (`/` for the whole bucket) |
 * | embedded log | `sluice-log://<folder>` | the topic |
 * | Kafka | `kafka://<first broker host:port>` | the topic |
 * | Postgres | `postgres://<host>:<port>` | `<database>.<schema>.<table>` |
 * | DuckDB | `duckdb://<absolute file>` | `main.<table>` or `<schema>.<table>` |
 *
 * Steps that read or write no dataset (generators, collections, the console) have none; a Kafka source with
 * several topics or a pattern names one dataset per topic, or the pattern.
 * @example datasetsOf(node, '/srv') // [{ namespace: 'kafka://127.0.0.1:9092', name: 'clicks' }]
 */
export function datasetsOf(node: StepNode, cwd = process.cwd()): DatasetRef[] {
  const d = (node.describe.source ?? node.describe.sink) as Record<string, unknown> | undefined
  if (d === undefined || typeof d !== 'object' || d === null) return []
  switch (d.kind) {
    case 'jsonl':
    case 'csv':
    case 'parquet':
    case 'avro':
      return typeof d.path === 'string' ? [fileDataset(d.path, cwd)] : []
    case 's3':
      return typeof d.bucket === 'string' ? [{ namespace: `s3://${d.bucket}`, name: typeof d.prefix === 'string' && d.prefix !== '' ? d.prefix.replace(/\/+$/, '') : '/' }] : []
    case 'log':
      return typeof d.dir === 'string' && typeof d.topic === 'string' ? [{ namespace: `sluice-log://${abs(d.dir, cwd)}`, name: d.topic }] : []
    case 'kafka': {
      const ns = `kafka://${firstBroker(d.brokers)}`
      if (typeof d.topic === 'string') return [{ namespace: ns, name: d.topic }]
      if (Array.isArray(d.topics)) return d.topics.map((t) => ({ namespace: ns, name: String(t) }))
      if (typeof d.topics === 'string') return [{ namespace: ns, name: d.topics }]
      return typeof d.pattern === 'string' ? [{ namespace: ns, name: d.pattern }] : []
    }
    case 'postgres':
    case 'postgres-cdc': {
      const { namespace, database } = postgresServer(d.url)
      const tables = typeof d.table === 'string' ? [d.table] : Array.isArray(d.tables) ? d.tables.map(String) : []
      return tables.map((t) => ({ namespace, name: `${database}.${t.includes('.') ? t : `public.${t}`}` }))
    }
    case 'duckdb':
      return typeof d.file === 'string' && typeof d.table === 'string' ? [{ namespace: `duckdb://${d.file === ':memory:' ? 'memory' : abs(d.file, cwd)}`, name: d.table.includes('.') ? d.table : `main.${d.table}` }] : []
    default:
      return []
  }
}

/** A file path as a dataset: S3 objects under their bucket, local files under `file`. */
export function fileDataset(path: string, cwd = process.cwd()): DatasetRef {
  const s3 = /^s3a?:\/\/([^/]+)\/(.*)$/.exec(path)
  if (s3 !== null) return { namespace: `s3://${s3[1]}`, name: s3[2] }
  return { namespace: 'file', name: abs(path.startsWith('file://') ? new URL(path).pathname : path, cwd) }
}

function abs(p: string, cwd: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p)
}

function firstBroker(b: unknown): string {
  const first = Array.isArray(b) ? b[0] : typeof b === 'string' ? b.split(',')[0] : undefined
  return typeof first === 'string' && first.trim() !== '' ? first.trim() : 'unknown'
}

/** The server and database of a (redacted) Postgres url; no user name or password is kept. */
function postgresServer(url: unknown): { namespace: string; database: string } {
  try {
    const u = new URL(String(url))
    return { namespace: `postgres://${u.hostname}:${u.port === '' ? '5432' : u.port}`, database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres' }
  } catch {
    return { namespace: 'postgres://unknown', database: 'postgres' }
  }
}
