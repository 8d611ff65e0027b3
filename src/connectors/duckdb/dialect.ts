import type { DuckDBAppender, DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { ParquetType } from '../parquet/schema.ts'
import type { SqlConnection, SqlDialect, StagedRows } from '../sql/dialect.ts'
import { lazyRequire } from '../../core/lazy-require.ts'

const duckdb = lazyRequire<typeof import('@duckdb/node-api')>(import.meta.url, '@duckdb/node-api')

/** The SQL type of each column type; the target table and the staging table use the same. */
export const SQL_TYPES: Record<ParquetType, string> = {
  int64: 'BIGINT',
  double: 'DOUBLE',
  string: 'VARCHAR',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  json: 'JSON',
}

const BY_SQL = new Map(Object.entries(SQL_TYPES).map(([t, sql]) => [sql, t as ParquetType]))

/** DuckDB as a staged sink's database: a database file, rows staged through an appender. */
export function duckDialect(file: string): SqlDialect {
  return {
    sink: 'sink.duckdb',
    target: file,
    types: SQL_TYPES,
    typeOf: (sql) => BY_SQL.get(sql),
    maxIdentifier: Number.MAX_SAFE_INTEGER,
    connect: async () => {
      // DuckDB creates the database file but not its folder; ':memory:' and other special names have none.
      if (!file.startsWith(':')) {
        await mkdir(dirname(file), { recursive: true }).catch((e: unknown) => {
          throw new SluiceError('SLUICE_SINK_FAILED', `sink.duckdb: cannot create the folder of '${file}': ${errorMessage(e)}`, { domain: 'external', cause: e })
        })
      }
      return new DuckConnection(await (await instanceOf(file)).connect())
    },
  }
}

class DuckConnection implements SqlConnection {
  private readonly c: DuckDBConnection

  constructor(c: DuckDBConnection) {
    this.c = c
  }

  async run(sql: string): Promise<void> {
    await this.c.run(sql === 'BEGIN' ? 'BEGIN TRANSACTION' : sql)
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await this.c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]
  }

  async append(table: string, rows: StagedRows, staged: boolean): Promise<void> {
    const a = await this.c.createAppender(table)
    try {
      const n = rows.ops.length
      let seq = rows.firstSeq
      for (let i = 0; i < n; i++) {
        for (const col of rows.columns) append(a, col.type, col.data[i])
        if (!staged) {
          a.endRow()
          continue
        }
        if (rows.keys === undefined) a.appendNull()
        else a.appendVarchar(rows.keys[i])
        a.appendVarchar(rows.ops[i])
        a.appendBigInt(BigInt(seq++))
        a.appendNull()
        a.endRow()
      }
      a.flushSync()
    } finally {
      a.closeSync()
    }
  }

  async close(): Promise<void> {
    this.c.closeSync()
  }
}

function append(a: DuckDBAppender, type: ParquetType, v: unknown): void {
  if (v === null || v === undefined) return a.appendNull()
  switch (type) {
    case 'int64':
      return a.appendBigInt(v as bigint)
    case 'double':
      return a.appendDouble(v as number)
    case 'string':
      return a.appendVarchar(v as string)
    case 'boolean':
      return a.appendBoolean(v as boolean)
    case 'timestamp':
      return a.appendTimestamp(new (duckdb().DuckDBTimestampValue)((v as bigint) * 1000n))
    case 'json':
      return a.appendVarchar(JSON.stringify(v))
  }
}

/**
 * Database instances by file, held for the life of the process. DuckDB's own instance cache spins forever
 * (a busy loop, never returning) when an instance is asked for while the last one of the same file is being
 * shut down after its garbage collection; a sink opened again in one process (a restart, a test harness)
 * would meet it. Holding each instance keeps its cache entry alive, so that never happens.
 */
const instances = new Map<string, Promise<DuckDBInstance>>()

function instanceOf(file: string): Promise<DuckDBInstance> {
  // ':memory:' and other special names are not files: each open has its own, as before.
  if (file.startsWith(':')) return duckdb().DuckDBInstance.fromCache(file)
  let i = instances.get(file)
  if (i === undefined) {
    i = duckdb().DuckDBInstance.fromCache(file)
    instances.set(file, i)
    // A failed open is not kept: the next connect tries again.
    i.catch(() => instances.delete(file))
  }
  return i
}
