import { stat } from 'node:fs/promises'
import type avsclib from 'avsc'
import type { Position } from '../../core/batch.ts'
import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import { END, type Source, type SourceOptions, type SourceReader } from '../../core/source.ts'
import { checkPaths, resolveFiles } from '../files/file-source.ts'
import { avsc } from './container.ts'
import { AvroBlockReader } from './block-reader.ts'

/**
 * Options of `source.avro`.
 * @example source.avro('data/orders/*.avro', { readerSchema: OrderV2, eventTime: (o) => o.ts })
 */
export interface AvroSourceOptions<T> extends SourceOptions<T> {
  /**
   * Read the records with this schema instead of the one in each file's header: Avro schema resolution (fields
   * added with defaults, fields dropped, promoted types), so files written with older schemas read alike.
   */
  readerSchema?: avsclib.Schema | avsclib.Type
}

/**
 * Where `source.avro` stands in one file: records of `file` already read; the byte offset of the block that
 * holds the next record and how many of its records were read (absent before the first block is read, and in
 * positions of earlier versions, which skip `record` records from the start).
 */
export interface AvroPosition {
  file: string
  record: number
  block?: number
  inBlock?: number
}

interface Part {
  file: string
  size: number
  reader: AvroBlockReader | undefined
  /** Records read so far, and (a restore from a position without a block) those to skip from the start. */
  record: number
  skip: number
  /** Byte offset of the block that holds the next record (-1: the first block), its records read, and its records once decoded. */
  at: number
  inBlock: number
  records: unknown[] | undefined
  next: number
  ended: boolean
}

/**
 * Reads Avro object container files (avsc), bounded: each file is one split, decoded as a stream (one block in
 * memory at a time), in file order; the schema comes from each file's header unless `readerSchema` is given.
 * Positions are `{ file, record, block, inBlock }`: a restore reads the block at byte offset `block` and goes on
 * after its first `inBlock` records, without reading what came before.
 * A file that is not Avro, or damaged, stops the job naming it.
 * @example p.from(source.avro('data/orders/*.avro'))
 */
export function avro<T = Record<string, unknown>>(path: string | readonly string[], options: AvroSourceOptions<T> = {}): Source<T> {
  checkPaths('avro', path)
  let readerSchema: avsclib.Type | undefined
  if (options.readerSchema !== undefined) {
    try {
      readerSchema = options.readerSchema instanceof avsc().Type ? options.readerSchema : avsc().Type.forSchema(options.readerSchema as avsclib.Schema)
    } catch (e) {
      throw userError('SLUICE_BAD_OPTION', `source.avro: readerSchema is not a valid Avro schema: ${errorMessage(e)}`, { cause: e })
    }
  }
  return {
    kind: 'avro',
    bounded: true,
    assignSplitsOnDemand: true,
    options,
    describe: () => ({ kind: 'avro', path, ...(readerSchema === undefined ? {} : { readerSchema: readerSchema.schema() }) }),
    async open(ctx): Promise<SourceReader<T>> {
      const step = ctx.stepId
      let files: string[]
      try {
        files = resolveFiles('avro', path)
      } catch (e) {
        throw e instanceof SluiceError ? new SluiceError(e.code, e.message, { domain: e.domain, step, hint: e.hint }) : e
      }
      const parts: Part[] = []
      for (const file of files) {
        let size: number
        try {
          const st = await stat(file)
          if (st.isDirectory()) throw userError('SLUICE_FILE_UNREADABLE', `'${file}' is a folder, not a file`, { step, position: file, hint: "use a glob pattern such as 'folder/*.avro'" })
          size = st.size
        } catch (e) {
          if (e instanceof SluiceError) throw e
          throw userError('SLUICE_FILE_NOT_FOUND', `file '${file}' does not exist`, { step, position: file, hint: 'check the path and the working folder' })
        }
        parts.push({ file, size, reader: undefined, record: 0, skip: 0, at: -1, inBlock: 0, records: undefined, next: 0, ended: false })
      }
      const unreadable = (p: Part, e: unknown) =>
        userError('SLUICE_FILE_UNREADABLE', `'${p.file}' is not an Avro object container file that can be read (after record ${p.record}): ${errorMessage(e)}`, { step, position: `${p.file}:${p.record}`, cause: e })
      /** Bytes of the blocks decoded in this run, for the step's bytesIn metric. */
      let blockBytes = 0
      /** The next record of `p` (decoding its block when needed), or undefined at the end of the file. */
      async function next(p: Part): Promise<{ value: unknown } | undefined> {
        try {
          if (p.reader === undefined) {
            const r = new AvroBlockReader(p.file, readerSchema)
            p.reader = r
            await r.open()
            if (p.at === -1) p.at = r.first
            // A position of an earlier version: whole blocks are skipped by their record counts, undecoded.
            while (p.skip > 0) {
              const b = await r.block(p.at, true)
              if (b === undefined) throw userError('SLUICE_BAD_POSITION', `source.avro: '${p.file}' has fewer records than the checkpoint's position; it was replaced`, { step, position: p.file })
              if (b.count > p.skip) {
                p.inBlock = p.skip
                break
              }
              p.skip -= b.count
              p.at = b.next
            }
            p.skip = 0
          }
          for (;;) {
            if (p.records === undefined) {
              const b = await p.reader.block(p.at)
              if (b === undefined) return undefined
              blockBytes += b.next - p.at
              if (b.records.length < p.inBlock) throw userError('SLUICE_BAD_POSITION', `source.avro: '${p.file}' has fewer records than the checkpoint's position; it was replaced`, { step, position: p.file })
              p.records = b.records
              p.next = b.next
            }
            if (p.inBlock < p.records.length) return { value: p.records[p.inBlock++] }
            p.at = p.next
            p.inBlock = 0
            p.records = undefined
          }
        } catch (e) {
          throw e instanceof SluiceError ? e : unreadable(p, e)
        }
      }
      function finish(p: Part): void {
        p.ended = true
        p.records = undefined
        void p.reader?.close()
        p.reader = undefined
      }
      return {
        partitions: parts.length,
        async read(partition, max) {
          const p = parts[partition]
          if (p === undefined) throw new SluiceError('SLUICE_INTERNAL', `source '${step}' has no partition ${partition}`, { domain: 'internal', step })
          if (p.ended) return END
          const values: T[] = []
          const pos: Position[] = []
          while (values.length < max) {
            const r = await next(p)
            if (r === undefined) {
              finish(p)
              break
            }
            p.record++
            values.push(r.value as T)
            pos.push(`${p.file}:${p.record}`)
          }
          return values.length === 0 ? END : { values, times: [], pos }
        },
        positions: () => parts.map((p): AvroPosition => (p.at === -1 ? { file: p.file, record: p.record } : { file: p.file, record: p.record, block: p.at, inBlock: p.inBlock })),
        bytesRead: () => blockBytes,
        // Bytes are not known record by record: the file counts as read once it ended.
        progress: (partition) => ({ done: parts[partition].ended ? parts[partition].size : 0, total: parts[partition].size }),
        seek(positions) {
          if (!Array.isArray(positions)) throw userError('SLUICE_BAD_POSITION', 'source.avro: checkpoint positions must be a list of { file, record }', { step })
          for (const at of positions as AvroPosition[]) {
            const whole = (n: unknown) => n === undefined || (Number.isSafeInteger(n) && (n as number) >= 0)
            if (at === null || typeof at !== 'object' || typeof at.file !== 'string' || !Number.isSafeInteger(at.record) || at.record < 0 || !whole(at.block) || !whole(at.inBlock)) {
              throw userError('SLUICE_BAD_POSITION', 'source.avro: checkpoint positions must be a list of { file, record, block?, inBlock? }', { step })
            }
            const p = parts.find((x) => x.file === at.file)
            if (p === undefined) continue
            p.record = at.record
            if (at.block === undefined) p.skip = at.record
            else {
              p.at = at.block
              p.inBlock = at.inBlock ?? 0
            }
          }
        },
        close() {
          for (const p of parts) finish(p)
        },
      }
    },
  }
}
