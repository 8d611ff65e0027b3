import { createHash } from 'node:crypto'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { ParquetSchema } from '../parquet/schema.ts'
import type { SqlConnection, SqlDialect, StagedRows } from './dialect.ts'

/** The table of committed checkpoints, one row per (sink, checkpoint). */
export const CHECKPOINTS = '_sluice_checkpoints'
/** The column of a computed key (DuckDB's `key` function), and in staging tables always. */
export const KEY_COLUMN = '_sluice_key'

export const ident = (s: string) => `"${s.replaceAll('"', '""')}"`
export const lit = (s: string) => `'${s.replaceAll("'", "''")}'`

/**
 * How rows are written by key: `computed` keys go to a `_sluice_key` primary key column (a key function's
 * value); `columns` names data columns that are the table's primary key.
 */
export type KeyMode = { kind: 'computed' } | { kind: 'columns'; columns: readonly string[] } | undefined

/**
 * A transaction of a staged table, as a checkpoint's handle keeps it: its staged rows with `_sluice_seq`
 * below `upto` (earlier versions stamped rows with the checkpoint id instead, and left `upto` out), and for a
 * database that prepares transactions (Postgres), the id of the prepared transaction holding rows written
 * straight to the target.
 */
export interface StagedTxn {
  sink: string
  upto?: number
  /**
   * With `upto`: the transaction's staged rows start at this `_sluice_seq` (rows below it belong to earlier
   * checkpoints, which may be committed and still staged where a commit's clean-up is not in its transaction).
   */
  from?: number
  prepared?: string
}

/**
 * A target table and this sink's staging table `_sluice_staging_<pipeline>_<step>_<subtask>`, which holds
 * rows written but not yet committed, in any SQL database a `SqlDialect` describes. Each staged row carries
 * its order (`_sluice_seq`), its changelog kind and its key (`_sluice_checkpoint` is read only for handles of
 * earlier versions, which stamped rows). The two-phase commit of every SQL sink: pre-commit makes the staged
 * rows durable and names them by `_sluice_seq` below a bound kept in the checkpoint's handle (no write);
 * commit moves the rows below the bound into the target and records checkpoint n in `_sluice_checkpoints`,
 * in one transaction, and does nothing if n is recorded already; on restart, once the inherited
 * transactions are committed, the staged rows left are dropped. Statements run on one connection, one at a time (`serial`): commits run in the
 * background while records are still written.
 */
export class StagedTable {
  readonly table: string
  readonly staging: string
  readonly sinkId: string
  private readonly dialect: SqlDialect
  private readonly step: string
  readonly key: KeyMode
  private conn: SqlConnection | undefined
  private queue: Promise<unknown> = Promise.resolve()
  /** Target columns, in order, and their types, once known (from the table, `columns` or the first batch). */
  schema: ParquetSchema | undefined
  private seq = 0
  /** Columns added to the staging table that the target gains in the next move (see `addColumns`). */
  private targetLater: ParquetSchema = {}
  /** Bytes of rows sent to the database (where its connection counts them), for the step's bytesOut metric. */
  bytesWritten = 0

  constructor(dialect: SqlDialect, table: string, sinkId: string, step: string, key: KeyMode) {
    this.dialect = dialect
    this.table = table
    this.sinkId = sinkId
    this.step = step
    this.key = key
    this.staging = stagingName(sinkId, dialect.maxIdentifier)
  }

  /** Connections made again after one was lost (see `SqlDialect.retries`). */
  get retries(): number {
    return this.dialect.retries?.() ?? 0
  }

  /** Whether rows should carry integers and timestamps as numbers (see `SqlDialect.numbers`). */
  get numbers(): boolean {
    return this.dialect.numbers === true
  }

  /** The columns upserts go by: `_sluice_key` or the named ones. */
  private get keyColumns(): readonly string[] {
    return this.key === undefined ? [] : this.key.kind === 'computed' ? [KEY_COLUMN] : this.key.columns
  }

  /** Runs `fn` after every statement queued before it; a failure becomes a SluiceError. */
  serial<R>(doing: string, fn: (c: SqlConnection) => Promise<R>): Promise<R> {
    const next = this.queue.then(async () => {
      try {
        this.conn ??= await this.dialect.connect()
        return await fn(this.conn)
      } catch (e) {
        if (e instanceof SluiceError) throw e
        throw new SluiceError('SLUICE_SINK_FAILED', `${this.dialect.sink}: cannot ${doing} in '${this.dialect.target}' (table '${this.table}'): ${errorMessage(e)}`, {
          domain: 'external',
          retryable: true,
          step: this.step,
          cause: e,
          ...(/ON CONFLICT/i.test(errorMessage(e)) ? { hint: `the key columns must be the table's primary key or a unique index` } : {}),
        })
      }
    })
    this.queue = next.catch(() => undefined)
    return next
  }

  /** Creates the checkpoints table; learns the target's columns if the table exists. */
  async init(): Promise<void> {
    await this.serial('create tables', async (c) => {
      await createIfMissing(c, `CREATE TABLE IF NOT EXISTS ${CHECKPOINTS} (sink_id VARCHAR NOT NULL, checkpoint_id BIGINT NOT NULL)`)
      const cols = await c.rows(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ${lit(this.table)} AND table_schema = current_schema() ORDER BY ordinal_position`)
      if (cols.length > 0) this.schema = this.fromSql(cols.map((r) => [String(r.column_name), String(r.data_type)]))
      if (await this.hasStaging(c)) {
        const [{ n }] = await c.rows(`SELECT coalesce(max(_sluice_seq) + 1, 0) AS n FROM ${ident(this.staging)}`)
        this.seq = Number(n)
      }
    })
  }

  private fromSql(cols: [string, string][]): ParquetSchema {
    const schema: ParquetSchema = {}
    let hasKey = false
    for (const [name, sql] of cols) {
      if (name === KEY_COLUMN) {
        hasKey = true
        continue
      }
      const t = this.dialect.typeOf(sql)
      if (t === undefined) {
        throw new SluiceError('SLUICE_BAD_OPTION', `${this.dialect.sink}: column '${name}' of table '${this.table}' has type ${sql}, which the sink does not write`, {
          step: this.step,
          hint: `the sink writes ${Object.values(this.dialect.types).join(', ')}; write to a new table or a view of this one`,
        })
      }
      schema[name] = t
    }
    if (this.key?.kind === 'computed' && !hasKey) {
      throw new SluiceError('SLUICE_BAD_OPTION', `${this.dialect.sink}: table '${this.table}' has no '${KEY_COLUMN}' column to upsert by`, { step: this.step, hint: 'with key, let the sink create the table' })
    }
    return schema
  }

  /** Creates the target table (if missing) and the staging table for `schema`. */
  async create(schema: ParquetSchema): Promise<void> {
    this.schema = schema
    const types = this.dialect.types
    const cols = Object.entries(schema).map(([n, t]) => `${ident(n)} ${types[t]}`)
    const key = this.key === undefined ? [] : this.key.kind === 'computed' ? [`${KEY_COLUMN} ${types.string} PRIMARY KEY`] : [`PRIMARY KEY (${this.key.columns.map(ident).join(', ')})`]
    await this.serial('create tables', async (c) => {
      await createIfMissing(c, `CREATE TABLE IF NOT EXISTS ${ident(this.table)} (${[...cols, ...key].join(', ')})`)
      await createIfMissing(c, `CREATE TABLE IF NOT EXISTS ${ident(this.staging)} (${[...cols, `${KEY_COLUMN} ${types.string}`, `_sluice_op ${types.string}`, `_sluice_seq ${types.int64}`, `_sluice_checkpoint ${types.int64}`].join(', ')})`)
    })
  }

  /**
   * Adds columns (nullable) to the target and the staging table: a backward-compatible change, since rows
   * written before have null there. Columns the table has already are left alone.
   */
  async addColumns(added: ParquetSchema, targetLater = false): Promise<void> {
    const names = Object.keys(added).filter((n) => this.schema === undefined || !(n in this.schema))
    if (names.length === 0) return
    // Known at once: rows buffered from now on have the new columns, and their statements queue after these.
    this.schema = { ...this.schema, ...Object.fromEntries(names.map((n) => [n, added[n]])) }
    // `targetLater`: the target may be locked by a transaction that only a later commit ends; its columns
    // are added by the move that needs them, in its transaction.
    if (targetLater) for (const n of names) this.targetLater[n] = added[n]
    await this.serial('add columns', async (c) => {
      for (const t of targetLater ? [this.staging] : [this.table, this.staging]) {
        for (const n of names) await c.run(`ALTER TABLE ${ident(t)} ADD COLUMN IF NOT EXISTS ${ident(n)} ${this.dialect.types[added[n]]}`)
      }
    })
  }

  /** Phase one of a checkpoint's transaction, once the rows are staged: every staged row so far. */
  seal(_checkpointId: number): Promise<StagedTxn> {
    return Promise.resolve({ sink: this.sinkId, upto: this.seq })
  }

  /** Phase two: moves the transaction's rows (see `move`). */
  commit(txn: StagedTxn, checkpointId: number): Promise<void> {
    return this.move(checkpointId, txn.upto, txn.from)
  }

  private async hasStaging(c: SqlConnection): Promise<boolean> {
    return (await c.rows(`SELECT 1 AS x FROM information_schema.tables WHERE table_name = ${lit(this.staging)} AND table_schema = current_schema()`)).length > 0
  }

  /** The `_sluice_seq` the next staged row gets: a pre-commit's transaction is every staged row below it. */
  get nextSeq(): number {
    return this.seq
  }

  /** Appends rows to the staging table. Durable when it returns; visible once moved. */
  stage(rows: Omit<StagedRows, 'firstSeq'>): Promise<void> {
    const n = rows.ops.length
    if (n === 0) return Promise.resolve()
    const firstSeq = this.seq
    this.seq += n
    return this.serial('stage rows', async (c) => this.sent(await c.append(this.staging, { ...rows, firstSeq, appendOnly: this.key === undefined }, true)))
  }

  /** Appends rows straight to the target (plain inserts in a run without checkpoints). */
  insert(rows: Omit<StagedRows, 'firstSeq'>): Promise<void> {
    if (rows.ops.length === 0) return Promise.resolve()
    return this.serial('insert rows', async (c) => this.sent(await c.append(this.table, { ...rows, firstSeq: 0 }, false)))
  }

  /** Counts what an append sent. */
  protected sent(bytes: number | void): void {
    if (typeof bytes === 'number') this.bytesWritten += bytes
  }

  /**
   * Moves staged rows into the target, in one transaction: those below `upto` (and from `from` when given; the transactions of
   * checkpoints up to `id`, recording `id` in the checkpoints table; nothing to do if it or a later one is
   * recorded), or with `id` undefined every staged row (runs without checkpoints). `upto` undefined, in a
   * handle of an earlier version, selects the rows stamped with checkpoint `id` or earlier.
   */
  move(id: number | undefined, upto?: number, from?: number): Promise<void> {
    const record = (c: SqlConnection) =>
      c.run(`INSERT INTO ${CHECKPOINTS} SELECT ${lit(this.sinkId)}, ${id} WHERE NOT EXISTS (SELECT 1 FROM ${CHECKPOINTS} WHERE sink_id = ${lit(this.sinkId)} AND checkpoint_id >= ${id})`)
    return this.serial('commit', async (c) => {
      if (!(await this.hasStaging(c)) || this.schema === undefined) {
        if (id !== undefined) await record(c)
        return
      }
      await c.run('BEGIN')
      try {
        if (id !== undefined && (await c.rows(`SELECT 1 AS x FROM ${CHECKPOINTS} WHERE sink_id = ${lit(this.sinkId)} AND checkpoint_id >= ${id}`)).length > 0) {
          await c.run('ROLLBACK')
          return
        }
        for (const [n, type] of Object.entries(this.targetLater)) await c.run(`ALTER TABLE ${ident(this.table)} ADD COLUMN IF NOT EXISTS ${ident(n)} ${this.dialect.types[type]}`)
        this.targetLater = {}
        const which = id === undefined ? 'TRUE' : upto === undefined ? `_sluice_checkpoint <= ${id}` : `${from === undefined ? '' : `_sluice_seq >= ${from} AND `}_sluice_seq < ${upto}`
        for (const sql of this.moveStatements(which)) await c.run(sql)
        // Every staged row moved (the usual case: the commit comes before the next rows): TRUNCATE is cheaper.
        const all = id === undefined || (upto !== undefined && upto >= this.seq)
        await c.run(all ? `TRUNCATE ${ident(this.staging)}` : `DELETE FROM ${ident(this.staging)} WHERE ${upto === undefined ? which : `_sluice_seq < ${upto}`}`)
        if (id !== undefined) await record(c)
        await c.run('COMMIT')
      } catch (e) {
        await c.run('ROLLBACK').catch(() => undefined)
        throw e
      }
    })
  }

  /** The statements that apply the staged rows `which` selects to the target. */
  private moveStatements(which: string): string[] {
    const cols = Object.keys(this.schema!).map(ident)
    const s = ident(this.staging)
    const t = ident(this.table)
    if (this.key === undefined) return [`INSERT INTO ${t} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${s} WHERE ${which}`]
    // The last change of each key decides: a retraction deletes the row, an insert or update replaces it.
    const keys = this.keyColumns.map(ident)
    const k = keys.join(', ')
    const last = `(SELECT *, row_number() OVER (PARTITION BY ${k} ORDER BY _sluice_seq DESC) AS _sluice_rn FROM ${s} WHERE ${which}) AS _sluice_last WHERE _sluice_rn = 1`
    const all = this.key.kind === 'computed' ? [...cols, ident(KEY_COLUMN)] : cols
    const rest = all.filter((c) => !keys.includes(c))
    const onConflict = rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}`
    return [
      `DELETE FROM ${t} WHERE (${k}) IN (SELECT ${k} FROM ${last} AND _sluice_op IN ('-U', '-D'))`,
      `INSERT INTO ${t} (${all.join(', ')}) SELECT ${all.join(', ')} FROM ${last} AND _sluice_op IN ('+I', '+U') ON CONFLICT (${k}) ${onConflict}`,
    ]
  }

  /**
   * After a restart, once the inherited transactions are moved: drops every staged row (written after the
   * restored checkpoint, or by a run that will not commit them), and forgets this sink's checkpoints after
   * `after` (all of them for a fresh run: its checkpoint ids start again at 1).
   */
  discardAfter(after: number | undefined): Promise<void> {
    return this.serial('recover', async (c) => {
      const cond = after === undefined ? 'TRUE' : `checkpoint_id > ${after}`
      await c.run(`DELETE FROM ${CHECKPOINTS} WHERE sink_id = ${lit(this.sinkId)} AND ${cond}`)
      if (await this.hasStaging(c)) await c.run(`DELETE FROM ${ident(this.staging)}`)
    })
  }

  /** Without checkpoints, at start: drops rows a crashed run staged and never moved (its records come again). */
  discardStaged(): Promise<void> {
    return this.serial('recover', async (c) => {
      if (await this.hasStaging(c)) await c.run(`DELETE FROM ${ident(this.staging)}`)
    })
  }

  /** Rows staged and not committed stay in the staging table: recovery moves or drops them. */
  close(): Promise<void> {
    return this.serial('close', async () => {
      await this.conn?.close()
      this.conn = undefined
    })
  }
}

/** `_sluice_staging_<sink id>`, shortened with a hash of the id where the database keeps shorter names. */
export function stagingName(sinkId: string, max: number): string {
  const name = `_sluice_staging_${sinkId.replace(/[^A-Za-z0-9_]/g, '_')}`
  if (name.length <= max) return name
  const hash = createHash('sha256').update(sinkId).digest('hex').slice(0, 12)
  return `${name.slice(0, max - 13)}_${hash}`
}

/** `CREATE TABLE IF NOT EXISTS` run by two writers at once may still collide in some databases: the table exists then. */
async function createIfMissing(c: SqlConnection, sql: string): Promise<void> {
  try {
    await c.run(sql)
  } catch (e) {
    if (!/already exists|duplicate key/i.test(errorMessage(e))) throw e
  }
}
