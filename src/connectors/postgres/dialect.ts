import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import type { ParquetType } from '../parquet/schema.ts'
import type { SqlConnection, SqlDialect, StagedRows } from '../sql/dialect.ts'
import { ident } from '../sql/staged-table.ts'
import { copyChunks } from './copy-text.ts'
import { lazyRequire } from '../../core/lazy-require.ts'

const pgLib = lazyRequire<typeof pg>(import.meta.url, 'pg')
const pgCopyStreams = lazyRequire<typeof import('pg-copy-streams')>(import.meta.url, 'pg-copy-streams')

/** The SQL type of each column type. */
export const PG_TYPES: Record<ParquetType, string> = {
  int64: 'BIGINT',
  double: 'DOUBLE PRECISION',
  string: 'TEXT',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
  json: 'JSONB',
}

/** Column types as information_schema names them, and those of tables made elsewhere the sink writes too. */
const BY_INFO: Record<string, ParquetType> = {
  bigint: 'int64',
  integer: 'int64',
  smallint: 'int64',
  'double precision': 'double',
  real: 'double',
  text: 'string',
  'character varying': 'string',
  boolean: 'boolean',
  'timestamp with time zone': 'timestamp',
  jsonb: 'json',
  json: 'json',
}

/** A connection string without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return 'the Postgres url'
  }
}

/** Postgres as a staged sink's database: rows staged with COPY, in `schema` when given (created if missing). */
export function pgDialect(url: string, schema: string | undefined): SqlDialect {
  return {
    sink: 'sink.postgres',
    target: redact(url),
    types: PG_TYPES,
    typeOf: (sql) => BY_INFO[sql.toLowerCase()],
    maxIdentifier: 63,
    numbers: true,
    async connect() {
      const client = new (pgLib().Client)({ connectionString: url })
      const c = new PgConnection(client)
      await client.connect()
      if (schema !== undefined) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`).catch((e: unknown) => {
          if (!/already exists|duplicate key/.test(String(e))) throw e
        })
        await client.query(`SET search_path TO ${ident(schema)}`)
      }
      return c
    },
  }
}

class PgConnection implements SqlConnection {
  private readonly client: pg.Client
  private lost: unknown

  constructor(client: pg.Client) {
    this.client = client
    // A connection lost between statements: the next statement fails with it instead of the process.
    client.on('error', (e) => (this.lost = e))
  }

  async run(sql: string): Promise<void> {
    if (this.lost !== undefined) throw this.lost
    await this.client.query(sql)
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    if (this.lost !== undefined) throw this.lost
    return (await this.client.query(sql)).rows as Record<string, unknown>[]
  }

  async append(table: string, rows: StagedRows, staged: boolean): Promise<void> {
    if (this.lost !== undefined) throw this.lost
    const cols = [...rows.columns.map((c) => c.name), ...(staged ? ['_sluice_key', '_sluice_op', '_sluice_seq', '_sluice_checkpoint'] : [])].map(ident)
    await pipeline(Readable.from(copyChunks(rows, staged), { objectMode: false }), this.client.query(pgCopyStreams().from(`COPY ${ident(table)} (${cols.join(', ')}) FROM STDIN`)))
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
  }
}
