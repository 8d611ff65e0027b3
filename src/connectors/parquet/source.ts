import { stat } from 'node:fs/promises'
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from 'hyparquet'
import type { Position } from '../../core/batch.ts'
import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import { END, type Source, type SourceOptions, type SourceReader } from '../../core/source.ts'
import { checkPaths, resolveFiles } from '../files/file-source.ts'

/**
 * Options of `source.parquet`.
 * @example source.parquet('data/orders/*.parquet', { columns: ['id', 'amount', 'ts'], eventTime: (o) => o.ts.getTime() })
 */
export interface ParquetSourceOptions<T> extends SourceOptions<T> {
  /** Columns to read (projection); default all. Only these columns' data is read from the file. */
  columns?: readonly string[]
  /** INT64 columns as 'number' (default; a value beyond 2^53 stays a bigint so nothing is lost) or always 'bigint'. */
  int64?: 'number' | 'bigint'
}

/** Where `source.parquet` stands in one split: rows of row group `rowGroup` of `file` already read. */
export interface ParquetPosition {
  file: string
  rowGroup: number
  row: number
}

interface Split {
  file: string
  buffer: AsyncBuffer
  metadata: FileMetaData
  rowGroup: number
  /** First row of the group in the file, and its row count. */
  start: number
  rows: number
  /** Rows of the group read so far. */
  row: number
  /** The group's rows, decoded once when its first batch is asked for and dropped at its end. */
  decoded: Record<string, unknown>[] | undefined
  bytes: number
}

/**
 * Reads Parquet files through hyparquet, bounded: each row group of each file is one split (partition), so row
 * groups are read in parallel and handed to the subtasks that are free. `path` is a file, a glob or a list.
 * Only the `columns` asked for are read. A row group is decoded when its split is first read (rows of one
 * group are in memory at a time per split). Positions are `{ file, rowGroup, row }`: a restore goes on at the
 * next row of each group. Timestamps come as Dates, INT64 as numbers (see `int64`).
 * @example p.from(source.parquet('data/orders/*.parquet', { columns: ['id', 'amount'] }))
 */
export function parquet<T = Record<string, unknown>>(path: string | readonly string[], options: ParquetSourceOptions<T> = {}): Source<T> {
  checkPaths('parquet', path)
  const columns = options.columns === undefined ? undefined : [...options.columns]
  if (columns !== undefined && (columns.length === 0 || columns.some((c) => typeof c !== 'string' || c === ''))) {
    throw userError('SLUICE_BAD_OPTION', 'source.parquet: columns must be a non-empty list of column names')
  }
  const int64 = options.int64 ?? 'number'
  if (int64 !== 'number' && int64 !== 'bigint') throw userError('SLUICE_BAD_OPTION', "source.parquet: int64 must be 'number' or 'bigint'")
  return {
    kind: 'parquet',
    bounded: true,
    assignSplitsOnDemand: true,
    options,
    describe: () => ({ kind: 'parquet', path, ...(columns === undefined ? {} : { columns }), int64 }),
    async open(ctx): Promise<SourceReader<T>> {
      const step = ctx.stepId
      let files: string[]
      try {
        files = resolveFiles('parquet', path)
      } catch (e) {
        throw e instanceof SluiceError ? new SluiceError(e.code, e.message, { domain: e.domain, step, hint: e.hint }) : e
      }
      const splits: Split[] = []
      for (const file of files) {
        let buffer: AsyncBuffer
        let metadata: FileMetaData
        try {
          if ((await stat(file)).isDirectory()) throw userError('SLUICE_FILE_UNREADABLE', `'${file}' is a folder, not a file`, { step, position: file, hint: "use a glob pattern such as 'folder/*.parquet'" })
          buffer = await asyncBufferFromFile(file)
          metadata = await parquetMetadataAsync(buffer)
        } catch (e) {
          if (e instanceof SluiceError) throw e
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw userError('SLUICE_FILE_NOT_FOUND', `file '${file}' does not exist`, { step, position: file, hint: 'check the path and the working folder' })
          throw userError('SLUICE_FILE_UNREADABLE', `'${file}' is not a Parquet file that can be read: ${errorMessage(e)}`, { step, position: file, cause: e })
        }
        if (columns !== undefined) {
          const have = new Set(metadata.schema.slice(1).map((s) => s.name))
          const missing = columns.find((c) => !have.has(c))
          if (missing !== undefined) throw userError('SLUICE_BAD_OPTION', `source.parquet: '${file}' has no column '${missing}'`, { step, position: file })
        }
        let start = 0
        metadata.row_groups.forEach((g, rowGroup) => {
          const rows = Number(g.num_rows)
          const bytes = Number(g.total_compressed_size ?? g.total_byte_size)
          splits.push({ file, buffer, metadata, rowGroup, start, rows, row: 0, decoded: undefined, bytes })
          start += rows
        })
      }
      let consumed = 0
      const toNumber = int64 === 'number'
      async function decode(s: Split): Promise<Record<string, unknown>[]> {
        try {
          const rows = await parquetReadObjects({ file: s.buffer, metadata: s.metadata, rowStart: s.start, rowEnd: s.start + s.rows, ...(columns === undefined ? {} : { columns }) })
          if (toNumber) for (const r of rows) for (const k in r) if (typeof r[k] === 'bigint' && r[k] >= Number.MIN_SAFE_INTEGER && r[k] <= Number.MAX_SAFE_INTEGER) r[k] = Number(r[k])
          return rows
        } catch (e) {
          throw new SluiceError('SLUICE_FILE_READ_FAILED', `source.parquet: row group ${s.rowGroup} of '${s.file}' could not be read: ${errorMessage(e)}`, { domain: 'external', step, position: `${s.file}#${s.rowGroup}`, cause: e })
        }
      }
      const position = (s: Split): ParquetPosition => ({ file: s.file, rowGroup: s.rowGroup, row: s.row })
      return {
        partitions: splits.length,
        async read(partition, max) {
          const s = splits[partition]
          if (s === undefined) throw new SluiceError('SLUICE_INTERNAL', `source '${step}' has no partition ${partition}`, { domain: 'internal', step })
          if (s.row >= s.rows) {
            s.decoded = undefined
            return END
          }
          s.decoded ??= await decode(s)
          const from = s.row
          const to = Math.min(s.rows, from + max)
          const values = s.decoded.slice(from, to) as T[]
          const pos: Position[] = new Array<Position>(values.length)
          for (let i = 0; i < values.length; i++) pos[i] = `${s.file}#${s.rowGroup}:${from + i + 1}`
          s.row = to
          consumed += Math.round((s.bytes * (to - from)) / Math.max(1, s.rows))
          return { values, times: [], pos }
        },
        positions: () => splits.map(position),
        progress: (partition) => ({ done: splits[partition].row, total: splits[partition].rows }),
        bytesRead: () => consumed,
        seek(positions) {
          if (!Array.isArray(positions)) throw userError('SLUICE_BAD_POSITION', 'source.parquet: checkpoint positions must be a list of { file, rowGroup, row }', { step })
          for (const at of positions as ParquetPosition[]) {
            if (at === null || typeof at !== 'object' || typeof at.file !== 'string' || !Number.isSafeInteger(at.rowGroup) || !Number.isSafeInteger(at.row) || at.row < 0) {
              throw userError('SLUICE_BAD_POSITION', 'source.parquet: checkpoint positions must be a list of { file, rowGroup, row }', { step })
            }
            const s = splits.find((x) => x.file === at.file && x.rowGroup === at.rowGroup)
            if (s === undefined) continue
            if (at.row > s.rows) {
              throw userError('SLUICE_BAD_POSITION', `source.parquet: row group ${at.rowGroup} of '${at.file}' has ${s.rows} rows, fewer than the checkpoint's position (${at.row}); the file was replaced`, { step, position: at.file, hint: 'restore from a checkpoint taken on the same files, or start without restoring' })
            }
            s.row = at.row
          }
        },
        close() {
          for (const s of splits) s.decoded = undefined
        },
      }
    },
  }
}
