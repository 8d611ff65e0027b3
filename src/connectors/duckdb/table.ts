import { DuckDBInstance, DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { ParquetSchema, ParquetType } from '../parquet/schema.ts'

/** The SQL type of each column type; the target table and the staging table use the same. */
export const SQL_TYPES: Record<ParquetType, string> = {
  int64: 'BIGINT',
  double: 'DOUBLE',
  string: 'VARCHAR',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  json: 'JSON',
}

/** The table of committed checkpoints, one row per (sink, checkpoint). */
export const CHECKPOINTS = '_sluice_checkpoints'
/** The column of the key, when the sink writes by key. */
export const KEY_COLUMN = '_sluice_key'

export const ident = (s: string) => `"${s.replaceAll('"', '""')}"`
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`

/** Rows to stage: columns converted by ColumnBuffer (bigints for int64 and timestamps, raw values for json). */
export interface Rows {
  columns: { name: string; data: unknown[] }[]
  ops: string[]
  keys: string[] | undefined
}

/**
 * A DuckDB target table and this sink's staging table `_sluice_staging_<pipeline>_<step>`, which holds rows
 * written but not yet committed. Each staged row carries its order (`_sluice_seq`), its changelog kind, its key,
 * and the checkpoint that pre-committed it (null until then). Every statement runs on one connection, one at a
 * time (`serial`): commits run in the background while records are still written.
 */
export class DuckTable {
  readonly file: string
  readonly table: string
  readonly staging: string
  readonly sinkId: string
  private readonly step: string
  private readonly keyed: boolean
  private conn: DuckDBConnection | undefined
  private queue: Promise<unknown> = Promise.resolve()
  /** Target columns, in order, and their types, once known (from the table, `columns` or the first batch). */
  schema: ParquetSchema | undefined
  private seq = 0n

  constructor(file: string, table: string, sinkId: string, step: string, keyed: boolean) {
    this.file = file
    this.table = table
    this.sinkId = sinkId
    this.step = step
    this.keyed = keyed
    this.staging = `_sluice_staging_${sinkId.replace(/[^A-Za-z0-9_]/g, '_')}`
  }

  /** Runs `fn` after every statement queued before it; a failure becomes a SluiceError. */
  serial<R>(doing: string, fn: (c: DuckDBConnection) => Promise<R>): Promise<R> {
    const next = this.queue.then(async () => {
      try {
        this.conn ??= await (await DuckDBInstance.fromCache(this.file)).connect()
        return await fn(this.conn)
      } catch (e) {
        if (e instanceof SluiceError) throw e
        throw new SluiceError('SLUICE_SINK_FAILED', `sink.duckdb: cannot ${doing} in '${this.file}' (table '${this.table}'): ${errorMessage(e)}`, { domain: 'external', retryable: true, step: this.step, cause: e })
      }
    })
    this.queue = next.catch(() => undefined)
    return next
  }

  /** Creates the checkpoints table; learns the target's columns if the table exists. */
  async init(): Promise<void> {
    // DuckDB creates the database file but not its folder; ':memory:' and other special names have none.
    if (!this.file.startsWith(':')) {
      await mkdir(dirname(this.file), { recursive: true }).catch((e: unknown) => {
        throw new SluiceError('SLUICE_SINK_FAILED', `sink.duckdb: cannot create the folder of '${this.file}': ${errorMessage(e)}`, { domain: 'external', step: this.step, cause: e })
      })
    }
    await this.serial('create tables', async (c) => {
      await c.run(`CREATE TABLE IF NOT EXISTS ${CHECKPOINTS} (sink_id VARCHAR NOT NULL, checkpoint_id BIGINT NOT NULL)`)
      const cols = (await c.runAndReadAll(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ${lit(this.table)} AND table_schema = current_schema() ORDER BY ordinal_position`)).getRowObjectsJS()
      if (cols.length > 0) this.schema = this.fromSql(cols.map((r) => [String(r.column_name), String(r.data_type)]))
      if (await this.hasStaging(c)) {
        const max = (await c.runAndReadAll(`SELECT coalesce(max(_sluice_seq) + 1, 0) AS n FROM ${ident(this.staging)}`)).getRowObjectsJS()[0].n
        this.seq = BigInt(max as bigint)
      }
    })
  }

  private fromSql(cols: [string, string][]): ParquetSchema {
    const byType = new Map(Object.entries(SQL_TYPES).map(([t, sql]) => [sql, t as ParquetType]))
    const schema: ParquetSchema = {}
    let hasKey = false
    for (const [name, sql] of cols) {
      if (name === KEY_COLUMN) {
        hasKey = true
        continue
      }
      const t = byType.get(sql)
      if (t === undefined) {
        throw new SluiceError('SLUICE_BAD_OPTION', `sink.duckdb: column '${name}' of table '${this.table}' has type ${sql}, which the sink does not write`, {
          step: this.step,
          hint: `the sink writes ${Object.values(SQL_TYPES).join(', ')}; write to a new table or a view of this one`,
        })
      }
      schema[name] = t
    }
    if (this.keyed && !hasKey) {
      throw new SluiceError('SLUICE_BAD_OPTION', `sink.duckdb: table '${this.table}' has no '${KEY_COLUMN}' column to upsert by`, { step: this.step, hint: 'with key, let the sink create the table' })
    }
    return schema
  }

  /** Creates the target table (if missing) and the staging table for `schema`. */
  async create(schema: ParquetSchema): Promise<void> {
    this.schema = schema
    const cols = Object.entries(schema).map(([n, t]) => `${ident(n)} ${SQL_TYPES[t]}`)
    const key = this.keyed ? [`${KEY_COLUMN} VARCHAR PRIMARY KEY`] : []
    await this.serial('create tables', async (c) => {
      await c.run(`CREATE TABLE IF NOT EXISTS ${ident(this.table)} (${[...cols, ...key].join(', ')})`)
      await c.run(`CREATE TABLE IF NOT EXISTS ${ident(this.staging)} (${[...cols, `${KEY_COLUMN} VARCHAR`, '_sluice_op VARCHAR', '_sluice_seq BIGINT', '_sluice_checkpoint BIGINT'].join(', ')})`)
    })
  }

  private async hasStaging(c: DuckDBConnection): Promise<boolean> {
    return (await c.runAndReadAll(`SELECT 1 FROM information_schema.tables WHERE table_name = ${lit(this.staging)} AND table_schema = current_schema()`)).currentRowCount > 0
  }

  /** Appends rows to the staging table, not yet stamped with a checkpoint. Committed when it returns. */
  stage(rows: Rows): Promise<void> {
    const n = rows.ops.length
    if (n === 0) return Promise.resolve()
    return this.serial('stage rows', async (c) => {
      const a = await c.createAppender(this.staging)
      try {
        const types = rows.columns.map((col) => this.schema![col.name])
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < rows.columns.length; j++) append(a, types[j], rows.columns[j].data[i])
          if (rows.keys === undefined) a.appendNull()
          else a.appendVarchar(rows.keys[i])
          a.appendVarchar(rows.ops[i])
          a.appendBigInt(this.seq++)
          a.appendNull()
          a.endRow()
        }
        a.flushSync()
      } finally {
        a.closeSync()
      }
    })
  }

  /** Stamps every unstamped staged row with checkpoint `id` (phase one: durable, not visible). */
  stamp(id: number): Promise<void> {
    return this.serial('pre-commit', async (c) => {
      if (await this.hasStaging(c)) await c.run(`UPDATE ${ident(this.staging)} SET _sluice_checkpoint = ${id} WHERE _sluice_checkpoint IS NULL`)
    })
  }

  /**
   * Moves staged rows into the target, in one transaction: those of checkpoints up to `id` (recording `id`
   * in the checkpoints table; nothing to do if it or a later one is recorded), or with `id` undefined the
   * unstamped rows (runs without checkpoints).
   */
  move(id: number | undefined): Promise<void> {
    return this.serial('commit', async (c) => {
      if (!(await this.hasStaging(c)) || this.schema === undefined) {
        if (id !== undefined) await c.run(`INSERT INTO ${CHECKPOINTS} SELECT ${lit(this.sinkId)}, ${id} WHERE NOT EXISTS (SELECT 1 FROM ${CHECKPOINTS} WHERE sink_id = ${lit(this.sinkId)} AND checkpoint_id >= ${id})`)
        return
      }
      await c.run('BEGIN TRANSACTION')
      try {
        if (id !== undefined) {
          const done = await c.runAndReadAll(`SELECT 1 FROM ${CHECKPOINTS} WHERE sink_id = ${lit(this.sinkId)} AND checkpoint_id >= ${id}`)
          if (done.currentRowCount > 0) {
            await c.run('ROLLBACK')
            return
          }
        }
        const which = id === undefined ? '_sluice_checkpoint IS NULL' : `_sluice_checkpoint <= ${id}`
        const cols = Object.keys(this.schema).map(ident)
        const s = ident(this.staging)
        const t = ident(this.table)
        if (!this.keyed) {
          await c.run(`INSERT INTO ${t} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${s} WHERE ${which} ORDER BY _sluice_seq`)
        } else {
          // The last change of each key decides: a retraction deletes the row, an insert or update replaces it.
          const last = `FROM ${s} WHERE ${which} QUALIFY row_number() OVER (PARTITION BY ${KEY_COLUMN} ORDER BY _sluice_seq DESC) = 1`
          await c.run(`DELETE FROM ${t} WHERE ${KEY_COLUMN} IN (SELECT ${KEY_COLUMN} ${last} AND _sluice_op IN ('-U', '-D'))`)
          const all = [...cols, KEY_COLUMN].join(', ')
          await c.run(`INSERT OR REPLACE INTO ${t} (${all}) SELECT ${all} ${last} AND _sluice_op IN ('+I', '+U')`)
        }
        await c.run(`DELETE FROM ${s} WHERE ${which}`)
        if (id !== undefined) await c.run(`INSERT INTO ${CHECKPOINTS} VALUES (${lit(this.sinkId)}, ${id})`)
        await c.run('COMMIT')
      } catch (e) {
        await c.run('ROLLBACK').catch(() => undefined)
        throw e
      }
    })
  }

  /**
   * After a restart: drops staged rows not pre-committed by `after` or earlier, and forgets this sink's
   * checkpoints after `after` (all of them for a fresh run: its checkpoint ids start again at 1).
   */
  discardAfter(after: number | undefined): Promise<void> {
    return this.serial('recover', async (c) => {
      const cond = after === undefined ? 'TRUE' : `checkpoint_id > ${after}`
      await c.run(`DELETE FROM ${CHECKPOINTS} WHERE sink_id = ${lit(this.sinkId)} AND ${cond}`)
      if (await this.hasStaging(c)) {
        await c.run(`DELETE FROM ${ident(this.staging)} WHERE ${after === undefined ? 'TRUE' : `_sluice_checkpoint IS NULL OR _sluice_checkpoint > ${after}`}`)
      }
    })
  }

  discardUnstamped(): Promise<void> {
    return this.serial('recover', async (c) => {
      if (await this.hasStaging(c)) await c.run(`DELETE FROM ${ident(this.staging)} WHERE _sluice_checkpoint IS NULL`)
    })
  }

  /** Rows staged and not yet stamped are dropped with the connection: recovery removes them. */
  close(): Promise<void> {
    return this.serial('close', async () => {
      this.conn?.closeSync()
      this.conn = undefined
    })
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
      return a.appendTimestamp(new DuckDBTimestampValue((v as bigint) * 1000n))
    case 'json':
      return a.appendVarchar(JSON.stringify(v))
  }
}
