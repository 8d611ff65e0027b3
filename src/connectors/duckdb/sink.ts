import { SluiceError } from '../../core/errors.ts'
import type { Sink, SinkWriter } from '../../core/sink.ts'
import { contractColumns } from '../parquet/contract-schema.ts'
import { checkSchema, type ParquetSchema } from '../parquet/schema.ts'
import { StagedTable } from '../sql/staged-table.ts'
import { StagedSqlWriter } from '../sql/staged-writer.ts'
import { duckDialect } from './dialect.ts'

/**
 * Options of `sink.duckdb`: the table's `columns` (types; inferred from the first batch if omitted) and
 * the `key` that makes writes upserts (a changelog then updates and deletes rows).
 * @example sink.duckdb<Revenue>('out/shop.duckdb', 'revenue', { key: (r) => r.country, columns: { country: 'string', revenue: 'double' } })
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
  /**
   * Records with fields the table lacks add them as nullable columns (default true); false makes them an
   * error. With a contract on the sink (`withContract`), the fields a new version adds become columns at once.
   */
  evolve?: boolean
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
 * not visible in the target); pre-commit at checkpoint n names the rows staged so far (by their order
 * number, in the checkpoint's handle); commit moves them into the target and records n in
 * `_sluice_checkpoints(sink_id, checkpoint_id)`, in one transaction, and does nothing if n is recorded
 * already; on restart, once the restored checkpoint's rows are moved, the staged rows left are dropped and
 * later checkpoint ids forgotten (the shared code of `sql/staged-table.ts`, as for `sink.postgres`). A fresh run (no checkpoint to restore)
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
      const t = new StagedTable(duckDialect(file), table, `${ctx.pipeline}/${ctx.stepId}/${ctx.subtask}`, ctx.stepId, keyed ? { kind: 'computed' } : undefined)
      await t.init()
      // Rows a crashed run without checkpoints staged and never moved: that run's records are written again.
      if (ctx.checkpointing !== true) await t.discardStaged()
      return new StagedSqlWriter<T>(t, { sink: 'sink.duckdb', keyOf: options.key, columns: options.columns, contractColumns: contractColumns(ctx.contract?.schemaText), evolve: options.evolve ?? true, stageRows: STAGE_ROWS }, ctx)
    },
  }
}
