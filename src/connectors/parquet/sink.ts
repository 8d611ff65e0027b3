import { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import type { Batch } from '../../core/batch.ts'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { Sink, SinkWriter } from '../../core/sink.ts'
import { openEncodedFile } from '../files/encoded-file-sink.ts'
import { contractColumns } from './contract-schema.ts'
import { checkSchema, ColumnBuffer, inferSchema, schemaElements, type ParquetSchema } from './schema.ts'

/**
 * Options of `sink.parquet`: the column `schema` (from the sink's contract, or inferred from the first batch, if omitted), the row group
 * size, and `changelog` to add an `op` column for updates and deletes.
 * @example sink.parquet('out/orders.parquet', { schema: { id: 'string', amount: 'double' } })
 */
export interface ParquetSinkOptions {
  /**
   * Column names and types. Default: from the contract given with `withContract(sink.parquet(...), contract)`
   * (see `contractColumns`), else inferred from the first batch (see `inferSchema`).
   */
  schema?: ParquetSchema
  /**
   * Rows per row group, exactly (a batch may fill one group and start the next; a file's last group, written
   * at a checkpoint or at close, holds the rest): the rows of a group are held in memory until it is written.
   * Default 100,000.
   */
  rowGroupSize?: number
  /**
   * Add an `op` column ('+I', '-U', '+U', '-D') with each record's changelog kind. Default: when the first
   * batch carries changelog kinds. Set it for a stream whose first batch may hold only inserts (a keyed aggregate).
   */
  changelog?: boolean
}

const DEFAULT_ROW_GROUP = 100_000

/**
 * Writes records as rows of a Parquet file (snappy-compressed, one column per field). Object records give one
 * column per field; other values go to a column `value`. The schema is declared or inferred from the first
 * batch; a record that does not fit it (a field not in the schema, a value of another type) stops the job
 * with a SluiceError naming the step and the field. Changelog records add an `op` column (see `changelog`).
 *
 * Without checkpoints `path` is one file, written at close: row groups go to a hidden file beside it, renamed
 * to `path` once the footer is written (a run with no records and no declared schema writes no file, and
 * removes the file of an earlier run). With checkpoints `path` is a folder of part files written exactly
 * once by two-phase commit, as sink.jsonl does: each checkpoint's rows become `path/part-<subtask>-<checkpoint>.parquet`
 * when the checkpoint completes (the footer is written and the file fsynced at the barrier); read them in
 * order with `committedParts(path, 'parquet')`, or all at once with DuckDB's `read_parquet('path/*.parquet')`.
 * @example .to(sink.parquet('out/sessions', { schema: { user: 'string', start: 'timestamp', events: 'int64' } }))
 */
export function parquet<T>(path: string, options: ParquetSinkOptions = {}): Sink<T> {
  if (typeof path !== 'string' || path === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'sink.parquet needs a path')
  if (options.schema !== undefined) checkSchema(options.schema)
  const rowGroupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) throw new SluiceError('SLUICE_BAD_OPTION', 'sink.parquet: rowGroupSize must be a positive integer')
  return {
    kind: 'parquet',
    guarantee: 'exactly-once',
    // Without checkpoints a failed run leaves the previous file, and a rerun writes every row again.
    guaranteeFor: (run) => (run.checkpointing ? 'exactly-once' : 'at-least-once'),
    describe: () => ({ kind: 'parquet', path, rowGroupSize, ...(options.schema ? { schema: options.schema } : {}), commit: 'file written at close; part files by two-phase commit with checkpoints' }),
    open(ctx): Promise<SinkWriter<T>> {
      // A contract on the sink gives the columns: each new file carries the schema of the contract's version.
      const encoder = new ParquetEncoder(options.schema ?? contractColumns(ctx.contract?.schemaText), options.changelog, rowGroupSize, ctx.stepId)
      return openEncodedFile(path, encoder, ctx, { ext: 'parquet', sink: 'sink.parquet' })
    },
  }
}

/** Encodes batches into one Parquet file at a time: row groups as they fill, the footer at `finish` (also used by sink.s3). */
export class ParquetEncoder {
  private schema: ParquetSchema | undefined
  private changelog: boolean | undefined
  private readonly rowGroupSize: number
  private readonly step: string
  private columns: ColumnBuffer | undefined
  private file: ParquetWriter | undefined
  /** The current file's bytes not yet handed out; a new one per file, since it counts the file's offsets. */
  private out = new ByteWriter(1 << 16)

  constructor(schema: ParquetSchema | undefined, changelog: boolean | undefined, rowGroupSize: number, step: string) {
    this.schema = schema
    this.changelog = changelog
    this.rowGroupSize = rowGroupSize
    this.step = step
  }

  /** Buffers a batch; returns the bytes of the row groups it filled, if any. */
  add(batch: Batch<unknown>): Uint8Array | undefined {
    if (batch.values.length === 0) return undefined
    this.changelog ??= batch.kinds !== undefined
    this.schema ??= inferSchema(batch, this.step)
    if (this.columns === undefined) {
      if (this.changelog && 'op' in this.schema) {
        throw new SluiceError('SLUICE_SCHEMA_MISMATCH', "sink.parquet: the records have a field 'op', the name of the changelog kind column", { step: this.step, hint: 'rename the field before the sink' })
      }
      this.columns = new ColumnBuffer(this.schema, this.changelog, this.step)
    }
    this.columns.add(batch)
    if (this.columns.length < this.rowGroupSize) return undefined
    // Full groups of exactly rowGroupSize rows; what is left of the batch waits for the next group.
    while (this.columns.length >= this.rowGroupSize) this.writeGroup(this.rowGroupSize)
    return this.drain()
  }

  /** Writes the buffered rows as a row group; returns the file's new bytes. */
  rowGroup(): Uint8Array | undefined {
    const rows = this.columns?.length ?? 0
    if (rows === 0) return undefined
    this.writeGroup(rows)
    return this.drain()
  }

  /** Encodes the first `rows` buffered rows as a row group of the file. */
  private writeGroup(rows: number): void {
    this.file ??= this.newFile(this.schema!, this.changelog!)
    try {
      void this.file.write({ columnData: this.columns!.take(rows), rowGroupSize: rows })
    } catch (e) {
      throw new SluiceError('SLUICE_SINK_FAILED', `sink.parquet: cannot encode a row group: ${errorMessage(e)}`, { domain: 'internal', step: this.step, cause: e })
    }
  }

  /** Ends the file: the last row group and the footer. Undefined when the file has no row (nothing to write). */
  finish(): Uint8Array | undefined {
    const last = this.rowGroup()
    const file = this.file
    if (file === undefined) return undefined
    this.file = undefined
    void file.finish()
    const tail = this.drain()
    return last === undefined ? tail : Buffer.concat([last, tail])
  }

  /** A file with no rows, when the schema is known (a run without records still replaces its file). */
  empty(): Uint8Array | undefined {
    if (this.schema === undefined) return undefined
    this.file = this.newFile(this.schema, this.changelog ?? false)
    return this.finish()
  }

  private newFile(schema: ParquetSchema, changelog: boolean): ParquetWriter {
    this.out = new ByteWriter(1 << 16)
    return new ParquetWriter({ writer: this.out, schema: schemaElements(schema, changelog), createdBy: 'sluice' })
  }

  private drain(): Uint8Array {
    const bytes = new Uint8Array(this.out.buffer.slice(0, this.out.index))
    this.out.index = 0
    return bytes
  }
}
