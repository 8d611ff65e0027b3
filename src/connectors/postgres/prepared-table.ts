import { createHash } from 'node:crypto'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { ParquetSchema } from '../parquet/schema.ts'
import type { SqlConnection, SqlDialect, StagedRows } from '../sql/dialect.ts'
import { CHECKPOINTS, StagedTable, lit, type StagedTxn } from '../sql/staged-table.ts'

/**
 * Whether the server lets a session prepare transactions (`max_prepared_transactions` above 0; it is 0 by
 * default, and changing it needs a server restart).
 */
export async function preparedTransactionsAllowed(dialect: SqlDialect): Promise<boolean> {
  let c: SqlConnection | undefined
  try {
    c = await dialect.connect()
    const [row] = await c.rows('SHOW max_prepared_transactions')
    return Number(row?.max_prepared_transactions) > 0
  } catch {
    return false // the table's first statement reports why the server cannot be used
  } finally {
    await c?.close()
  }
}

/** How the ids of a sink's prepared transactions start (`<prefix><checkpoint id>`). */
export function preparedPrefix(database: string, schema: string, table: string, sinkId: string): string {
  return `sluice_${createHash('sha256').update(`${database}\0${schema}\0${table}\0${sinkId}`).digest('hex').slice(0, 24)}_`
}

/**
 * An append-only Postgres table written once per row: rows are COPYed straight into the target inside a
 * transaction held open between barriers, which pre-commit ends with `PREPARE TRANSACTION` (durable, not
 * visible; it survives a crash of the sink and of the server) together with the checkpoint's row in
 * `_sluice_checkpoints`, and commit ends with `COMMIT PREPARED`. Recovery commits the prepared transactions
 * of the restored handles and rolls back this sink's others. No staging table, no second write: the move
 * of `StagedTable` is the cost this saves.
 *
 * A prepared transaction holds its lock on the target until committed, so `ALTER TABLE` (new columns) would
 * wait for a commit that comes after it: once columns are added while a transaction is open or prepared,
 * the sink stages its rows for the rest of the run as `StagedTable` does, and the target gains the columns
 * in the move, after the prepared transactions before it are committed. Made with `direct` false (the server
 * allows no prepared transactions, or the sink was told not to use them), it stages every row and only
 * completes or rolls back the prepared transactions an earlier run left.
 */
export class PreparedTable extends StagedTable {
  private readonly pg: SqlDialect
  /** The connection whose open transaction holds the rows written since the last barrier. */
  private direct: SqlConnection | undefined
  private open = false
  /** Prepared transactions this writer made and has not committed. */
  private readonly prepared = new Set<string>()
  /** Rows go to the staging table (after a schema change); they still go in the prepared transaction first. */
  private staged = false
  /** Prefix of this sink's prepared transaction ids: they are global to the server, so it names the database and table. */
  private prefix = ''

  constructor(dialect: SqlDialect, table: string, sinkId: string, step: string, direct: boolean) {
    super(dialect, table, sinkId, step, undefined)
    this.pg = dialect
    this.staged = !direct
  }

  override async init(): Promise<void> {
    await super.init()
    await this.serial('create tables', async (c) => {
      const [r] = await c.rows('SELECT current_database() AS d, current_schema() AS s')
      this.prefix = preparedPrefix(String(r.d), String(r.s), this.table, this.sinkId)
    })
  }

  override stage(rows: Omit<StagedRows, 'firstSeq'>): Promise<void> {
    if (this.staged) return super.stage(rows)
    if (rows.ops.length === 0) return Promise.resolve()
    return this.serial('write rows', async () => {
      const c = await this.begin()
      this.sent(await c.append(this.table, { ...rows, firstSeq: 0 }, false))
    })
  }

  private async begin(): Promise<SqlConnection> {
    this.direct ??= await this.pg.connect()
    if (!this.open) {
      await this.direct.run('BEGIN')
      this.open = true
    }
    return this.direct
  }

  override addColumns(added: ParquetSchema): Promise<void> {
    if (!this.staged && !this.open && this.prepared.size === 0) return super.addColumns(added)
    this.staged = true
    return super.addColumns(added, true)
  }

  override seal(checkpointId: number): Promise<StagedTxn> {
    return this.serial('prepare the transaction', async () => {
      const staged = this.staged ? await super.seal(checkpointId) : { sink: this.sinkId }
      if (this.staged && !this.open) return staged
      const c = await this.begin()
      // With staged rows, their move records the checkpoint instead.
      if (!this.staged) await c.run(`INSERT INTO ${CHECKPOINTS} VALUES (${lit(this.sinkId)}, ${checkpointId})`)
      const gid = `${this.prefix}${checkpointId}`
      await c.run(`PREPARE TRANSACTION ${lit(gid)}`)
      this.open = false
      this.prepared.add(gid)
      return { ...staged, prepared: gid }
    })
  }

  override async commit(txn: StagedTxn, checkpointId: number): Promise<void> {
    const gid = txn.prepared
    if (gid !== undefined) {
      await this.serial('commit', async (c) => {
        try {
          await c.run(`COMMIT PREPARED ${lit(gid)}`)
        } catch (e) {
          if ((e as { code?: string }).code !== '42704') throw e
          // Gone: committed before (a commit repeated after a crash), unless its checkpoint is not recorded.
          if (txn.upto === undefined && (await c.rows(`SELECT 1 AS x FROM ${CHECKPOINTS} WHERE sink_id = ${lit(this.sinkId)} AND checkpoint_id >= ${checkpointId}`)).length === 0) {
            throw new SluiceError('SLUICE_SINK_FAILED', `sink.postgres: the prepared transaction of checkpoint ${checkpointId} (table '${this.table}') is neither pending nor committed: ${errorMessage(e)}`, {
              domain: 'external',
              hint: 'a prepared transaction of the sink was rolled back outside it (ROLLBACK PREPARED); its rows are lost to this run',
            })
          }
        }
        this.prepared.delete(gid)
      })
    }
    if (txn.upto !== undefined) await super.commit(txn, checkpointId)
  }

  /** After the inherited transactions are committed: rolls back this sink's other prepared transactions, then as `StagedTable`. */
  override async discardAfter(after: number | undefined): Promise<void> {
    await this.serial('recover', async (c) => {
      const left = await c.rows(`SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, ${lit(this.prefix)})`)
      for (const { gid } of left) await c.run(`ROLLBACK PREPARED ${lit(String(gid))}`)
    })
    await super.discardAfter(after)
  }

  /** An open transaction ends with the connection (rolled back: its records come again); prepared ones stay for recovery. */
  override async close(): Promise<void> {
    await this.serial('close', async () => {
      await this.direct?.close()
      this.direct = undefined
      this.open = false
    })
    await super.close()
  }
}
