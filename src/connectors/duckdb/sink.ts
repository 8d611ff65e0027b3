import { INSERT, type Batch } from '../../core/batch.ts'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { RestoredHandle, Sink, SinkContext, SinkWriter } from '../../core/sink.ts'
import { checkSchema, ColumnBuffer, inferSchema, type ParquetSchema } from '../parquet/schema.ts'
import { TwoPhaseCommit, type AbortScope, type Transactions } from '../../checkpoint/two-phase-commit.ts'
import { DuckTable, KEY_COLUMN } from './table.ts'

/**
 * Options of `sink.duckdb`: the table's `columns` (types; inferred from the first batch if omitted) and
 * the `key` that makes writes upserts (a changelog then updates and deletes rows).
 * @example sink.duckdb('out/shop.duckdb', 'revenue', { key: (r) => r.country, columns: { country: 'string', revenue: 'double' } })
 */
export interface DuckDbSinkOptions<T> {
  /**
   * Writes by key: each record's key (a string, or values compared as JSON) goes to a `_sluice_key` primary
   * key column; inserts and updates (+I, +U) replace the key's row, retractions (-U, -D) delete it. Replays are
   * then idempotent, with or without checkpoints.
   */
  key?: (v: T) => unknown[] | string
  /**
   * Columns of the table to create, with the types of sink.parquet's schema (int64 BIGINT, double DOUBLE,
   * string VARCHAR, boolean BOOLEAN, timestamp TIMESTAMP in UTC from a Date or epoch ms, json JSON).
   * Default: inferred from the first batch. A table that exists keeps its columns.
   */
  columns?: ParquetSchema
}

/** Rows are staged once this many are buffered. */
const STAGE_ROWS = 10_000

/**
 * Writes records as rows of a DuckDB table in `file`, created if missing (see `columns`); object records give
 * one column per field, other values a column `value`. A record that does not fit the columns stops the job
 * with a SluiceError naming the step and the field.
 *
 * With checkpoints it is exactly-once, through `TwoPhaseCommit`. A DuckDB transaction is not kept open from
 * pre-commit to commit; instead, rows go to a staging table `_sluice_staging_<pipeline>_<step>` (committed,
 * not visible in the target); pre-commit at checkpoint n stamps the staged rows with n; commit moves the rows
 * of checkpoints up to n into the target and records n in `_sluice_checkpoints(sink_id, checkpoint_id)`, in
 * one transaction, and does nothing if n is recorded already; abort, on restart, deletes staged rows of
 * later checkpoints or of none, and forgets later checkpoint ids. A fresh run (no checkpoint to restore)
 * appends to the table; restoring an older checkpoint than the last committed one leaves the later rows in
 * place unless `key` is set. The sink runs as one subtask (one writer per database file).
 *
 * Without checkpoints rows are written every 10,000 records and at close: plain inserts (at-least-once if the
 * job is run again), or upserts by `key` (a rerun replaces the same rows). A changelog (updates, deletes)
 * needs `key`.
 * @example .to(sink.duckdb('out/stats.duckdb', 'totals', { key: (t) => [t.key] }))
 */
export function duckdb<T>(file: string, table: string, options: DuckDbSinkOptions<T> = {}): Sink<T> {
  if (typeof file !== 'string' || file === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'sink.duckdb needs a database file')
  if (typeof table !== 'string' || table === '' || table.startsWith('_sluice_')) {
    throw new SluiceError('SLUICE_BAD_ARGUMENT', 'sink.duckdb needs a table name (not starting with _sluice_)')
  }
  if (options.columns !== undefined) checkSchema(options.columns, 'sink.duckdb')
  const keyed = options.key !== undefined
  return {
    kind: 'duckdb',
    guarantee: 'exactly-once',
    // Exactly-once with checkpoints or a key; at-least-once without either.
    guaranteeFor: (run) => (run.checkpointing || keyed ? 'exactly-once' : 'at-least-once'),
    singleSubtask: true,
    describe: () => ({ kind: 'duckdb', file, table, keyed, commit: keyed ? 'upserts by key; staged rows move with the checkpoint id in one transaction' : 'staged rows move with the checkpoint id in one transaction; plain inserts without checkpoints' }),
    async open(ctx): Promise<SinkWriter<T>> {
      const t = new DuckTable(file, table, `${ctx.pipeline}/${ctx.stepId}/${ctx.subtask}`, ctx.stepId, keyed)
      await t.init()
      // Rows a crashed run without checkpoints staged and never moved: that run's records are written again.
      if (ctx.checkpointing !== true) await t.discardUnstamped()
      return new DuckDbWriter<T>(t, options, ctx)
    },
  }
}

/** A transaction of the staging table: the rows stamped with its checkpoint id. */
interface Stamped {
  sink: string
}

class DuckDbWriter<T> implements SinkWriter<T> {
  private readonly t: DuckTable
  private readonly key: ((v: T) => unknown[] | string) | undefined
  private readonly columns: ParquetSchema | undefined
  private readonly ctx: SinkContext
  private buffer: ColumnBuffer | undefined
  private keys: string[] = []
  private created: Promise<void> | undefined
  private failure: unknown
  private readonly tpc: TwoPhaseCommit<Stamped>

  constructor(t: DuckTable, options: DuckDbSinkOptions<T>, ctx: SinkContext) {
    this.t = t
    this.key = options.key
    this.columns = options.columns
    this.ctx = ctx
    this.tpc = new TwoPhaseCommit<Stamped>(this.txns, ctx, 'sink.duckdb')
  }

  write(batch: Batch<T>): void | Promise<void> {
    if (this.failure !== undefined) throw this.failure
    if (batch.values.length === 0) return
    if (this.ctx.checkpointing === true && !this.tpc.recovered) return this.tpc.ensureRecovered().then(() => this.write(batch))
    if (this.key === undefined && batch.kinds !== undefined && batch.kinds.some((k) => k !== INSERT)) {
      throw new SluiceError('SLUICE_BAD_OPTION', 'sink.duckdb: the stream carries updates and deletes; the sink applies them by key', { step: this.ctx.stepId, hint: 'pass key: (v) => [...] to sink.duckdb' })
    }
    if (this.buffer === undefined) {
      const schema = this.t.schema ?? this.columns ?? inferSchema(batch as Batch<unknown>, this.ctx.stepId, 'sink.duckdb')
      if (KEY_COLUMN in schema) throw new SluiceError('SLUICE_SCHEMA_MISMATCH', `sink.duckdb: '${KEY_COLUMN}' is the sink's own column`, { step: this.ctx.stepId })
      this.buffer = new ColumnBuffer(schema, true, this.ctx.stepId, 'sink.duckdb')
      this.created = this.t.create(schema)
    }
    const keys = this.key === undefined ? undefined : batch.values.map((v, i) => this.keyOf(v, batch, i))
    try {
      this.buffer.add(batch as Batch<unknown>)
    } catch (e) {
      // Part of the batch is buffered: the writer cannot go on.
      this.failure = e
      throw e
    }
    if (keys !== undefined) for (const k of keys) this.keys.push(k)
    if (this.buffer.length >= STAGE_ROWS) return this.flush()
  }

  private keyOf(v: T, batch: Batch<T>, i: number): string {
    let k: unknown[] | string
    try {
      k = this.key!(v)
    } catch (e) {
      const position = batch.pos?.[i]
      throw new SluiceError('SLUICE_SINK_FAILED', `sink.duckdb: the key function failed: ${errorMessage(e)}`, { domain: 'user', step: this.ctx.stepId, cause: e, ...(position === undefined ? {} : { position }) })
    }
    return typeof k === 'string' ? k : JSON.stringify(k, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))
  }

  /** Stages the buffered rows; without checkpoints, moves them into the table at once. */
  private async flush(): Promise<void> {
    await this.created
    if (this.buffer === undefined || this.buffer.length === 0) return
    const columns = this.buffer.take()
    const ops = columns.pop()!.data as string[]
    const keys = this.key === undefined ? undefined : this.keys
    this.keys = []
    await this.t.stage({ columns: columns as { name: string; data: unknown[] }[], ops, keys })
    if (this.ctx.checkpointing !== true) await this.t.move(undefined)
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

  private async stamp(checkpointId: number): Promise<Stamped> {
    await this.flush()
    await this.t.stamp(checkpointId)
    return { sink: this.t.sinkId }
  }

  /** The staging table's transactions, for the two-phase commit. */
  private readonly txns: Transactions<Stamped> = {
    preCommit: (id) => this.stamp(id),
    commit: (_txn, id) => this.t.move(id),
    abort: (scope: AbortScope) => this.t.discardAfter(scope.after),
    legacy: (h) => (Number.isSafeInteger((h as { checkpointId?: unknown } | null)?.checkpointId) ? [{ sink: this.t.sinkId }] : undefined),
    check: (txn) => {
      if (typeof (txn as Stamped | null)?.sink !== 'string') {
        throw new SluiceError('SLUICE_BAD_POSITION', 'sink.duckdb: a transaction in the checkpoint handle must be { sink }', { domain: 'internal', step: this.ctx.stepId })
      }
      return txn as Stamped
    },
  }

  async close(): Promise<void> {
    if (this.ctx.checkpointing !== true && this.failure === undefined) await this.flush()
    await this.t.close()
  }
}
