import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import type { ParquetType } from '../parquet/schema.ts'
import type { SqlConnection, SqlDialect, StagedRows } from '../sql/dialect.ts'
import { ident } from '../sql/staged-table.ts'
import { copyChunks } from './copy-text.ts'
import { copyBinaryChunks } from './copy-binary.ts'
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

/** The information_schema type of a column COPY binary can fill with each column type's values. */
const BINARY_TYPES: Record<ParquetType, string> = {
  int64: 'bigint',
  double: 'double precision',
  string: 'text',
  boolean: 'boolean',
  timestamp: 'timestamp with time zone',
  json: 'jsonb',
}

/** A staging table's own columns, after the data columns. */
const STAGING_COLUMNS = ['_sluice_key', '_sluice_op', '_sluice_seq', '_sluice_checkpoint']

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
  /** Each table's columns and their information_schema types, as last read. */
  private readonly sqlTypes = new Map<string, Map<string, string>>()

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

  /** COPY of the rows into `table`; resolves to the bytes sent. */
  async append(table: string, rows: StagedRows, staged: boolean): Promise<number> {
    if (this.lost !== undefined) throw this.lost
    const names = [...rows.columns.map((c) => c.name), ...(!staged ? [] : rows.appendOnly === true ? ['_sluice_seq'] : STAGING_COLUMNS)]
    const binary = await this.binaryFits(table, rows, staged)
    const chunks = binary ? copyBinaryChunks(rows, staged) : copyChunks(rows, staged)
    const copy = `COPY ${ident(table)} (${names.map(ident).join(', ')}) FROM STDIN${binary ? ' (FORMAT binary)' : ''}`
    let bytes = 0
    const counted = function* () {
      for (const chunk of chunks) {
        bytes += chunk.length
        yield chunk
      }
    }
    await pipeline(Readable.from(counted(), { objectMode: false }), this.client.query(pgCopyStreams().from(copy)))
    return bytes
  }

  /**
   * Whether every column of `table` that the rows fill has exactly the SQL type COPY binary writes for it
   * (the sink's own tables always do; a table made elsewhere may have INTEGER or VARCHAR columns, which take
   * COPY text). The table's types are read once, and again when the rows name a column not seen.
   */
  private async binaryFits(table: string, rows: StagedRows, staged: boolean): Promise<boolean> {
    let known = this.sqlTypes.get(table)
    if (known === undefined || rows.columns.some((c) => !known!.has(c.name))) {
      const got = await this.client.query('SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema()', [table])
      known = new Map(got.rows.map((r: { column_name: string; data_type: string }) => [r.column_name, r.data_type]))
      this.sqlTypes.set(table, known)
    }
    const types = known
    const fits = rows.columns.every((c) => types.get(c.name) === BINARY_TYPES[c.type])
    return fits && (!staged || STAGING_COLUMNS.every((c, i) => types.get(c) === (i < 2 ? 'text' : 'bigint')))
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
  }
}
