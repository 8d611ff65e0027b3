import type { ParquetSchema } from '../parquet/schema.ts'
import type { SqlConnection, SqlDialect, StagedRows } from '../sql/dialect.ts'
import { CHECKPOINTS, ident, lit, type StagedTxn } from '../sql/staged-table.ts'
import { PreparedTable } from './prepared-table.ts'

/** A transaction on its own connection holding the rows of one checkpoint, COPYed straight into the target. */
interface Mirror {
  conn: SqlConnection
  /** Its statements, one after the other; rejects once one failed. */
  queue: Promise<void>
  failed: boolean
}

/**
 * The staged path of an append-only table on a server that allows no prepared transactions, without the
 * second write: every row is staged (durable: the checkpoint's record, as `StagedTable` keeps it) and, at the
 * same time on another connection, COPYed straight into the target inside a transaction left open until its
 * checkpoint completes. The two COPYs run side by side in two server processes, and a COPY costs the server
 * less than the move's INSERT … SELECT. Commit then ends that transaction with the checkpoint's row in
 * `_sluice_checkpoints` (rows and record in one transaction, no move), then empties the staging table of its
 * rows. The checkpoint's handle names its staged rows from `from` to `upto`, so a move never takes rows of a
 * committed checkpoint that are still staged. After a crash the open transactions are gone (rolled back with
 * their connections) and recovery moves the staged rows as `StagedTable` does, as it does for a checkpoint
 * whose transaction failed. Once columns are added, rows are only staged for the rest of
 * the run (an `ALTER TABLE` would wait for the open transactions).
 */
export class MirroredTable extends PreparedTable {
  private readonly connector: SqlDialect
  /** The transaction taking the rows since the last barrier; 'off' after one of its COPYs failed. */
  private current: Mirror | 'off' | undefined
  /** Transactions sealed by a barrier, by checkpoint id, until their commit. */
  private readonly sealed = new Map<number, Mirror>()
  /** Connections whose transaction ended, for the next one. */
  private readonly idle: SqlConnection[] = []
  private mirroring = true
  /** The `_sluice_seq` of the first row staged since the last barrier. */
  private epochFrom = 0

  constructor(dialect: SqlDialect, table: string, sinkId: string, step: string) {
    super(dialect, table, sinkId, step, false)
    this.connector = dialect
  }

  override stage(rows: Omit<StagedRows, 'firstSeq'>): Promise<void> {
    const staged = super.stage(rows)
    if (!this.mirroring || rows.ops.length === 0 || this.current === 'off') return staged
    const m = this.current ?? this.startMirror()
    this.current = m
    this.then(m, async (c) => this.sent(await c.append(this.table, { ...rows, firstSeq: 0 }, false)))
    // The caller waits for both; a failed copy only sends its checkpoint the slow way.
    return Promise.all([staged, m.queue.catch(() => undefined)]).then(() => undefined)
  }

  private startMirror(): Mirror {
    const m: Mirror = { conn: undefined as unknown as SqlConnection, queue: Promise.resolve(), failed: false }
    m.queue = (async () => {
      m.conn = this.idle.pop() ?? (await this.connector.connect())
      await m.conn.run('BEGIN')
    })()
    return m
  }

  /** Runs `fn` on the mirror after its earlier statements; a failure ends the mirror (rolled back). */
  private then(m: Mirror, fn: (c: SqlConnection) => Promise<void>): void {
    m.queue = m.queue.then(() => fn(m.conn))
    m.queue.catch(() => {
      if (m.failed) return
      m.failed = true
      if (this.current === m) this.current = 'off'
      void m.conn?.close()
    })
  }

  override async init(): Promise<void> {
    await super.init()
    this.epochFrom = this.nextSeq
  }

  override async seal(checkpointId: number): Promise<StagedTxn> {
    const sealed = await super.seal(checkpointId)
    // The checkpoint's staged rows are [from, upto): its commit's clean-up comes after its transaction.
    const txn = sealed.upto === undefined ? sealed : { ...sealed, from: this.epochFrom }
    if (sealed.upto !== undefined) this.epochFrom = sealed.upto
    const m = this.current
    this.current = undefined
    if (m !== undefined && m !== 'off') {
      await m.queue.catch(() => undefined)
      if (!m.failed) this.sealed.set(checkpointId, m)
    }
    return txn
  }

  override async commit(txn: StagedTxn, checkpointId: number): Promise<void> {
    const m = this.sealed.get(checkpointId)
    this.sealed.delete(checkpointId)
    if (m === undefined || txn.prepared !== undefined || txn.upto === undefined) return super.commit(txn, checkpointId)
    const upto = txn.upto
    let recorded = false
    try {
      await m.queue
      const c = m.conn
      recorded = (await c.rows(`SELECT 1 AS x FROM ${CHECKPOINTS} WHERE sink_id = ${lit(this.sinkId)} AND checkpoint_id >= ${checkpointId}`)).length > 0
      if (recorded) {
        await c.run('ROLLBACK')
      } else {
        await c.run(`INSERT INTO ${CHECKPOINTS} VALUES (${lit(this.sinkId)}, ${checkpointId})`)
        await c.run('COMMIT')
      }
      this.idle.push(c)
    } catch {
      // The transaction is lost (rolled back): its rows are still staged, and go the slow way.
      await m.conn?.close()
      return super.commit(txn, checkpointId)
    }
    // The committed rows leave the staging table (a later checkpoint's move would skip them anyway: its
    // handle starts after them). Usually nothing was staged since the barrier, and TRUNCATE empties it.
    await this.serial('commit', async (c) => {
      await c.run(this.nextSeq === upto ? `TRUNCATE ${ident(this.staging)}` : `DELETE FROM ${ident(this.staging)} WHERE _sluice_seq < ${upto}`)
    })
  }

  override async addColumns(added: ParquetSchema): Promise<void> {
    await this.stopMirroring()
    return super.addColumns(added)
  }

  /**
   * From now on rows are only staged; every open transaction is rolled back (its checkpoint's rows are still
   * staged, and commit moves them), so none holds a lock that an `ALTER TABLE` of a move would wait for.
   */
  private async stopMirroring(): Promise<void> {
    this.mirroring = false
    const open = [...this.sealed.values()]
    if (this.current !== undefined && this.current !== 'off') open.push(this.current)
    this.current = undefined
    this.sealed.clear()
    for (const m of open) {
      m.failed = true
      await m.queue.then(() => m.conn.close(), () => undefined)
    }
    for (const c of this.idle.splice(0)) await c.close()
  }

  override async close(): Promise<void> {
    await this.stopMirroring()
    await super.close()
  }
}
