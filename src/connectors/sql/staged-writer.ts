import { INSERT, type Batch } from '../../core/batch.ts'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { RestoredHandle, SinkContext, SinkWriter } from '../../core/sink.ts'
import { TwoPhaseCommit, type AbortScope, type Transactions } from '../../checkpoint/two-phase-commit.ts'
import { ColumnBuffer, inferSchema, type ParquetSchema } from '../parquet/schema.ts'
import { KEY_COLUMN, type StagedTable, type StagedTxn } from './staged-table.ts'

/** How a staged SQL writer behaves; the sink that makes it fills this in from its own options. */
export interface StagedWriterOptions<T> {
  /** The sink's name in messages, e.g. `sink.duckdb`. */
  sink: string
  /** A key function (DuckDB's `key`): its value goes to `_sluice_key`. Undefined with key columns or no key. */
  keyOf?: (v: T) => unknown[] | string
  /** Columns of the table to create; default: inferred from the first batch. */
  columns?: ParquetSchema
  /** Records with fields the table lacks add nullable columns (to the target and the staging table). */
  evolve?: boolean
  /**
   * The columns of the sink's contract (`ctx.contract`): the table is created with them when `columns` is not
   * given, and with `evolve` those a table that exists lacks (a new version's added fields) are added, nullable.
   */
  contractColumns?: ParquetSchema
  /** Rows are staged once this many are buffered. */
  stageRows: number
}

/**
 * The writer of every SQL sink over a `StagedTable`: buffers rows column by column, stages them, and with
 * checkpoints commits through `TwoPhaseCommit` (pre-commit bounds the staged rows, commit moves them).
 * Without checkpoints, staged rows are moved at once (plain inserts, or upserts by key).
 */
export class StagedSqlWriter<T> implements SinkWriter<T> {
  private readonly t: StagedTable
  private readonly o: StagedWriterOptions<T>
  private readonly ctx: SinkContext
  private buffer: ColumnBuffer | undefined
  private keys: string[] = []
  private created: Promise<void> | undefined
  /** The stage started last (at most one runs while the writer takes more records). */
  private inFlight: Promise<void> | undefined
  private failure: unknown
  private readonly tpc: TwoPhaseCommit<StagedTxn>

  constructor(t: StagedTable, options: StagedWriterOptions<T>, ctx: SinkContext) {
    this.t = t
    this.o = options
    this.ctx = ctx
    this.tpc = new TwoPhaseCommit<StagedTxn>(this.txns, ctx, options.sink)
  }

  write(batch: Batch<T>): void | Promise<void> {
    if (this.failure !== undefined) throw this.failure
    if (batch.values.length === 0) return
    if (this.ctx.checkpointing === true && !this.tpc.recovered) return this.tpc.ensureRecovered().then(() => this.write(batch))
    if (this.t.key === undefined && batch.kinds !== undefined && batch.kinds.some((k) => k !== INSERT)) {
      throw new SluiceError('SLUICE_BAD_OPTION', `${this.o.sink}: the stream carries updates and deletes; the sink applies them by key`, { step: this.ctx.stepId, hint: `pass a key to ${this.o.sink}` })
    }
    if (this.buffer === undefined) {
      const declared = this.o.columns ?? this.o.contractColumns
      const existing = this.t.schema
      let schema = existing ?? declared ?? inferSchema(batch as Batch<unknown>, this.ctx.stepId, this.o.sink)
      if (KEY_COLUMN in schema) throw new SluiceError('SLUICE_SCHEMA_MISMATCH', `${this.o.sink}: '${KEY_COLUMN}' is the sink's own column`, { step: this.ctx.stepId })
      const key = this.t.key
      if (key?.kind === 'columns') {
        const missing = key.columns.find((c) => !(c in schema))
        if (missing !== undefined) throw new SluiceError('SLUICE_BAD_OPTION', `${this.o.sink}: key column '${missing}' is not a column of the table`, { step: this.ctx.stepId })
      }
      this.created = this.t.create(schema)
      // A table made for an earlier version of the contract gains the columns this one adds.
      const added = this.o.evolve === true && existing !== undefined && this.o.contractColumns !== undefined ? Object.fromEntries(Object.entries(this.o.contractColumns).filter(([n]) => !(n in existing))) : {}
      if (Object.keys(added).length > 0) {
        const created = this.created
        const adding = this.t.addColumns(added)
        this.created = created.then(() => adding)
        schema = this.t.schema!
      }
      this.buffer = new ColumnBuffer(schema, true, this.ctx.stepId, this.o.sink, this.t.numbers)
    }
    const keys = this.o.keyOf === undefined ? undefined : batch.values.map((v, i) => this.keyOf(v, batch, i))
    const before = this.buffer.length
    try {
      this.buffer.add(batch as Batch<unknown>)
    } catch (e) {
      this.buffer.truncate(before)
      const added = this.o.evolve === true ? this.newFields(batch) : {}
      if (Object.keys(added).length > 0) return this.evolve(batch, keys, added)
      // Part of the batch may be staged already: the writer cannot go on.
      this.failure = e
      throw e
    }
    if (keys !== undefined) for (const k of keys) this.keys.push(k)
    if (this.buffer.length >= this.o.stageRows) {
      // One stage in flight while the next rows are buffered: the database ingests while records come.
      const previous = this.inFlight
      void this.flush()
      return previous
    }
  }

  /** The fields of a batch that the table lacks, with their types (none when they cannot be typed). */
  private newFields(batch: Batch<T>): ParquetSchema {
    const schema = this.t.schema!
    try {
      return Object.fromEntries(Object.entries(inferSchema(batch as Batch<unknown>, this.ctx.stepId, this.o.sink)).filter(([n]) => !(n in schema)))
    } catch {
      return {}
    }
  }

  /** A batch with fields the table lacks: they become nullable columns and the batch is written again. */
  private async evolve(batch: Batch<T>, keys: string[] | undefined, added: ParquetSchema): Promise<void> {
    await this.flush()
    await this.t.addColumns(added)
    this.buffer = new ColumnBuffer(this.t.schema!, true, this.ctx.stepId, this.o.sink, this.t.numbers)
    try {
      this.buffer.add(batch as Batch<unknown>)
    } catch (e2) {
      this.failure = e2
      throw e2
    }
    if (keys !== undefined) for (const k of keys) this.keys.push(k)
  }

  private keyOf(v: T, batch: Batch<T>, i: number): string {
    let k: unknown[] | string
    try {
      k = this.o.keyOf!(v)
    } catch (e) {
      const position = batch.pos?.[i]
      throw new SluiceError('SLUICE_SINK_FAILED', `${this.o.sink}: the key function failed: ${errorMessage(e)}`, { domain: 'user', step: this.ctx.stepId, cause: e, ...(position === undefined ? {} : { position }) })
    }
    return typeof k === 'string' ? k : JSON.stringify(k, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))
  }

  /**
   * Stages the buffered rows (after the stage in flight); without checkpoints, writes them into the table at
   * once. The rows are taken now; the returned promise is also `inFlight` until the next flush.
   */
  private flush(): Promise<void> {
    const previous = this.inFlight
    const rows = this.take()
    const p = (async () => {
      await this.created
      await previous
      if (rows === undefined) return
      if (this.ctx.checkpointing === true) return this.t.stage(rows)
      // Without checkpoints, plain inserts go straight to the table; upserts go through the staging table.
      if (this.t.key === undefined) return this.t.insert(rows)
      await this.t.stage(rows)
      await this.t.move(undefined)
    })()
    p.catch(() => undefined) // awaited by the next write, pre-commit or close
    this.inFlight = p
    return p
  }

  private take() {
    if (this.buffer === undefined || this.buffer.length === 0) return undefined
    const schema = this.t.schema ?? this.buffer.schema
    const columns = this.buffer.take()
    const ops = columns.pop()!.data as string[]
    const keys = this.o.keyOf === undefined ? undefined : this.keys
    this.keys = []
    return { columns: columns.map((c) => ({ name: c.name, type: schema[c.name], data: c.data as unknown[] })), ops, keys }
  }

  /** Bytes sent to the database (COPY's, for sink.postgres; 0 where the database does not count them). */
  bytesWritten(): number {
    return this.t.bytesWritten
  }

  /** Connections to the database made again after one was lost. */
  retries(): number {
    return this.t.retries
  }

  preCommit(checkpointId: number): Promise<unknown> {
    return this.tpc.preCommit(checkpointId)
  }

  commit(checkpointId: number, handle: unknown): Promise<void> {
    return this.tpc.commit(checkpointId, handle)
  }

  recover(restored: readonly RestoredHandle[]): Promise<void> {
    return this.tpc.recover(restored)
  }

  /** Phase one: the buffered rows are staged (durable), and the transaction is every staged row so far. */
  private async bound(checkpointId: number): Promise<StagedTxn> {
    await this.flush()
    return this.t.seal(checkpointId)
  }

  /** The staging table's transactions, for the two-phase commit. */
  private readonly txns: Transactions<StagedTxn> = {
    preCommit: (id) => this.bound(id),
    commit: (txn, id) => this.t.commit(txn, id),
    abort: (scope: AbortScope) => this.t.discardAfter(scope.after),
    legacy: (h) => (Number.isSafeInteger((h as { checkpointId?: unknown } | null)?.checkpointId) ? [{ sink: this.t.sinkId }] : undefined),
    check: (txn) => {
      const t = txn as StagedTxn | null
      if (typeof t?.sink !== 'string' || (t.upto !== undefined && !Number.isSafeInteger(t.upto)) || (t.from !== undefined && !Number.isSafeInteger(t.from)) || (t.prepared !== undefined && typeof t.prepared !== 'string')) {
        throw new SluiceError('SLUICE_BAD_POSITION', `${this.o.sink}: a transaction in the checkpoint handle must be { sink, upto?, from?, prepared? }`, { domain: 'internal', step: this.ctx.stepId })
      }
      return txn as StagedTxn
    },
  }

  async close(): Promise<void> {
    if (this.ctx.checkpointing !== true && this.failure === undefined) await this.flush()
    await this.t.close()
  }
}
