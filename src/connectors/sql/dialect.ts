import type { ParquetType } from '../parquet/schema.ts'

/**
 * Rows to stage, column by column as `ColumnBuffer` converts them (bigints for int64 and epoch-ms bigints for
 * timestamps, or numbers where the dialect says `numbers`; raw values for json), with each row's changelog kind, its computed key (or none) and its order.
 */
export interface StagedRows {
  columns: { name: string; type: ParquetType; data: unknown[] }[]
  ops: string[]
  keys: string[] | undefined
  /** The `_sluice_seq` of the first row; the others follow. */
  firstSeq: number
  /**
   * Every row is an insert without a computed key (an append-only table): of a staging table's own columns
   * only `_sluice_seq` needs a value, and a database may leave the others null.
   */
  appendOnly?: boolean
}

/** One connection to the database, used by one staged table, one statement at a time. */
export interface SqlConnection {
  run(sql: string): Promise<void>
  rows(sql: string): Promise<Record<string, unknown>[]>
  /**
   * Appends rows to `table`, durable when it returns. A staging table (`staged`) has the data columns in
   * order, then `_sluice_key`, `_sluice_op`, `_sluice_seq` and `_sluice_checkpoint` (left null); a target
   * table only the data columns. Resolves to the bytes sent where the database counts them (Postgres's COPY).
   */
  append(table: string, rows: StagedRows, staged: boolean): Promise<number | void>
  close(): Promise<void>
}

/** What differs between the databases a staged sink writes to. Everything else is `StagedTable`'s. */
export interface SqlDialect {
  /** The sink's name in messages, e.g. `sink.postgres`. */
  readonly sink: string
  /** Where it writes, for messages (a file or a url without its password). */
  readonly target: string
  /** The SQL type a column of each type gets. */
  readonly types: Record<ParquetType, string>
  /** The column type of a data type as information_schema reports it, or undefined if the sink cannot write it. */
  typeOf(dataType: string): ParquetType | undefined
  /** Integers and timestamps reach `append` as numbers (or bigints), not always bigints. */
  readonly numbers?: boolean
  /** The longest identifier the database keeps (longer staging table names are shortened with a hash). */
  readonly maxIdentifier: number
  connect(): Promise<SqlConnection>
  /** Connections made again after one was lost (the step's retries metric); absent where none are. */
  retries?(): number
}
