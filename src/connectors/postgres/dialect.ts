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

/**
 * Postgres as a staged sink's database: rows staged with COPY, in `schema` when given (created if missing).
 * `retries()` counts the connections made again after one was lost while idle (see `PgConnection`). `name` is
 * the connections' `application_name` (what `pg_stat_activity` shows), e.g. the pipeline and step.
 */
export function pgDialect(url: string, schema: string | undefined, name?: string): SqlDialect {
  let retries = 0
  const open = async (): Promise<pg.Client> => {
    const client = new (pgLib().Client)({ connectionString: url, ...(name === undefined ? {} : { application_name: name.slice(0, 63) }) })
    client.on('error', () => undefined) // until the connection listens itself
    await client.connect()
    if (schema !== undefined) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`).catch((e: unknown) => {
        if (!/already exists|duplicate key/.test(String(e))) throw e
      })
      await client.query(`SET search_path TO ${ident(schema)}`)
    }
    return client
  }
  return {
    sink: 'sink.postgres',
    target: redact(url),
    types: PG_TYPES,
    typeOf: (sql) => BY_INFO[sql.toLowerCase()],
    maxIdentifier: 63,
    numbers: true,
    connect: async () =>
      new PgConnection(await open(), async () => {
        retries++
        return open()
      }),
    retries: () => retries,
  }
}

/**
 * One connection of the sink. A connection lost while idle outside a transaction (a server restart, an idle
 * timeout, `pg_terminate_backend`) is replaced before the next statement, which then runs as it would have:
 * nothing of the sink's was open on it. Lost inside a transaction (the prepared path holds one between
 * barriers) or during a statement, the next statement fails with it and the two-phase commit recovers.
 */
class PgConnection implements SqlConnection {
  private client!: pg.Client
  private readonly reopen: () => Promise<pg.Client>
  private lost: unknown
  /** Whether a transaction is open on the connection (BEGIN run, not yet ended). */
  private inTransaction = false
  /** Each table's columns and their information_schema types, as last read. */
  private readonly sqlTypes = new Map<string, Map<string, string>>()

  constructor(client: pg.Client, reopen: () => Promise<pg.Client>) {
    this.reopen = reopen
    this.use(client)
  }

  private use(client: pg.Client): void {
    this.client = client
    this.lost = undefined
    // A connection lost between statements: the next statement sees it instead of the process.
    client.on('error', (e) => (this.lost = e))
  }

  /** The connection to send the next statement on: a new one if this was lost while idle. */
  private async ready(): Promise<pg.Client> {
    if (this.lost === undefined) return this.client
    if (this.inTransaction) throw this.lost
    const old = this.client
    this.use(await this.reopen())
    await old.end().catch(() => undefined)
    return this.client
  }

  async run(sql: string): Promise<void> {
    const client = await this.ready()
    await client.query(sql)
    if (/^\s*BEGIN\b/i.test(sql)) this.inTransaction = true
    else if (/^\s*(COMMIT|ROLLBACK|PREPARE\s+TRANSACTION)\b/i.test(sql)) this.inTransaction = false
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await (await this.ready()).query(sql)).rows as Record<string, unknown>[]
  }

  /** COPY of the rows into `table`; resolves to the bytes sent. */
  async append(table: string, rows: StagedRows, staged: boolean): Promise<number> {
    await this.ready()
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
