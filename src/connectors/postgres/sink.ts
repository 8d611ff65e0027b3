import { SluiceError } from '../../core/errors.ts'
import type { Sink, SinkWriter } from '../../core/sink.ts'
import { contractColumns } from '../parquet/contract-schema.ts'
import { checkSchema, type ParquetSchema } from '../parquet/schema.ts'
import { StagedTable } from '../sql/staged-table.ts'
import { StagedSqlWriter } from '../sql/staged-writer.ts'
import type { SqlDialect } from '../sql/dialect.ts'
import { pgDialect, redact } from './dialect.ts'
import { MirroredTable } from './mirrored-table.ts'
import { PreparedTable, preparedTransactionsAllowed } from './prepared-table.ts'

/**
 * Options of `sink.postgres`.
 * @example sink.postgres({ url: 'postgres://app@127.0.0.1/shop', table: 'revenue', key: ['country'] })
 */
export interface PostgresSinkOptions {
  /** A Postgres connection string, e.g. `postgres://user:password@host:5432/db`. */
  url: string
  /** The target table, created if missing. */
  table: string
  /** The Postgres schema of the table (and the sink's own tables), created if missing. Default: the connection's. */
  schema?: string
  /**
   * Columns that make writes upserts: the table's primary key (when the sink creates it). Inserts and
   * updates (+I, +U) replace the key's row, retractions (-U, -D) delete it, so a changelog stream lands as
   * one row per key and replays are idempotent, with or without checkpoints.
   */
  key?: readonly string[]
  /**
   * Columns of the table to create (int64 BIGINT, double DOUBLE PRECISION, string TEXT, boolean BOOLEAN,
   * timestamp TIMESTAMPTZ from a Date or epoch ms, json JSONB). Default: inferred from the first batch.
   */
  columns?: ParquetSchema
  /**
   * Records with fields the table lacks add them as nullable columns (default true); false makes them an
   * error. With a contract on the sink (`withContract`), the fields a new version adds become columns at once.
   */
  evolve?: boolean
  /**
   * Without `key` and with checkpoints, write each checkpoint's rows straight into the table in a
   * transaction that the barrier prepares (`PREPARE TRANSACTION`) and the checkpoint's completion commits:
   * rows are written once instead of staged and moved, about twice as fast. Default true: used when the
   * server allows it (`max_prepared_transactions` above 0); else rows are staged and, side by side, COPYed
   * straight into the table in a transaction left open until the checkpoint completes. A prepared or open
   * transaction holds its lock on the table and the server's oldest transaction horizon until the next
   * checkpoint completes; false stages rows always, and moves them at each commit.
   */
  prepared?: boolean
}

/** Rows are staged (with COPY) once this many are buffered. */
const STAGE_ROWS = 20_000

/**
 * Writes records as rows of a Postgres table through `pg`: one column per field, created from the records'
 * schema if the table is missing, and new nullable columns when records gain fields (`evolve`).
 *
 * With checkpoints the sink is exactly-once through `TwoPhaseCommit`. Without `key`, on a server that allows
 * prepared transactions (`prepared`), rows are sent with COPY straight into the table in a transaction that
 * pre-commit at checkpoint n prepares and commit commits (`COMMIT PREPARED`); on a server without prepared
 * transactions, they are staged as below and, side by side, COPYed into the table in a transaction that
 * commit ends with the checkpoint's record. Otherwise rows are sent with
 * COPY into a staging table `_sluice_staging_<pipeline>_<step>_<subtask>`: pre-commit names the rows staged
 * so far (by order number, in the checkpoint's handle), commit moves them into the table and records n in
 * `_sluice_checkpoints`, in one transaction (the same code as `sink.duckdb`). With `key`, the move is an
 * upsert (`INSERT ... ON CONFLICT`) and delete by key of each key's last change, so changelog streams
 * (aggregates, CDC) are applied. Without checkpoints, rows are written every 20,000 records and at close
 * (COPY straight into the table): at-least-once, or exactly-once in effect with `key`. The sink runs as one subtask (one ordered writer).
 * @example .to(sink.postgres({ url: process.env.DATABASE_URL!, table: 'totals', key: ['user'] }))
 */
export function postgres<T>(options: PostgresSinkOptions): Sink<T> {
  return postgresSink(options, preparedTransactionsAllowed)
}

/** `sink.postgres`, asking `serverPrepares` whether the server allows prepared transactions (tests answer for it). */
export function postgresSink<T>(options: PostgresSinkOptions, serverPrepares: (d: SqlDialect) => Promise<boolean>): Sink<T> {
  const { url, table, schema, key, columns } = options ?? ({} as PostgresSinkOptions)
  if (typeof url !== 'string' || url === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'sink.postgres needs a url (postgres://user@host:port/database)')
  if (typeof table !== 'string' || table === '' || table.startsWith('_sluice_')) {
    throw new SluiceError('SLUICE_BAD_ARGUMENT', 'sink.postgres needs a table name (not starting with _sluice_)')
  }
  if (key !== undefined && (!Array.isArray(key) || key.length === 0 || !key.every((k) => typeof k === 'string' && k !== ''))) {
    throw new SluiceError('SLUICE_BAD_OPTION', 'sink.postgres: key must be a non-empty list of column names', { hint: "e.g. key: ['user_id']" })
  }
  if (columns !== undefined) checkSchema(columns, 'sink.postgres')
  const keyed = key !== undefined
  return {
    kind: 'postgres',
    guarantee: 'exactly-once',
    guaranteeFor: (run) => (run.checkpointing || keyed ? 'exactly-once' : 'at-least-once'),
    singleSubtask: true,
    describe: () => ({
      kind: 'postgres',
      url: redact(url),
      table: schema === undefined ? table : `${schema}.${table}`,
      ...(keyed ? { key } : {}),
      commit: keyed
        ? 'upserts and deletes by key; rows sent with COPY to a staging table move with the checkpoint id in one transaction'
        : options.prepared === false
          ? 'rows sent with COPY to a staging table, moved with the checkpoint id in one transaction'
          : 'rows sent with COPY straight to the table in a transaction prepared at the barrier and committed with the checkpoint (where the server allows prepared transactions), else to a staging table and, side by side, to the table in a transaction committed with the checkpoint id',
    }),
    async open(ctx): Promise<SinkWriter<T>> {
      const dialect = pgDialect(url, schema, `sluice ${ctx.pipeline}/${ctx.stepId}`)
      const sinkId = `${ctx.pipeline}/${ctx.stepId}/${ctx.subtask}`
      // Append-only with checkpoints: a table that completes prepared transactions, whether it makes them or not.
      const prepared = !keyed && ctx.checkpointing === true
      const direct = prepared && options.prepared !== false && (await serverPrepares(dialect))
      // Without prepared transactions on the server, rows are staged and copied into the table in a transaction
      // left open until the checkpoint completes, side by side (the staged rows are what survives a crash).
      const mirrored = prepared && options.prepared !== false && !direct
      if (mirrored && ctx.subtask === 0) {
        ctx.warn?.(`sink.postgres '${ctx.stepId}': the server allows no prepared transactions (max_prepared_transactions = 0), so every row is also written to a staging table; set max_prepared_transactions to at least the sink's parallelism to COPY rows only into the table`)
      }
      const t = mirrored
        ? new MirroredTable(dialect, table, sinkId, ctx.stepId)
        : prepared
          ? new PreparedTable(dialect, table, sinkId, ctx.stepId, direct)
          : new StagedTable(dialect, table, sinkId, ctx.stepId, keyed ? { kind: 'columns', columns: key } : undefined)
      await t.init()
      if (ctx.checkpointing !== true) await t.discardStaged()
      return new StagedSqlWriter<T>(t, { sink: 'sink.postgres', columns, contractColumns: contractColumns(ctx.contract?.schemaText), evolve: options.evolve ?? true, stageRows: STAGE_ROWS }, ctx)
    },
  }
}
