import type { Batch } from '../../core/batch.ts'
import { SluiceError } from '../../core/errors.ts'
import type { Sink, SinkContext, SinkWriter } from '../../core/sink.ts'
import { folderPrefix, type S3Connection } from '../../checkpoint/s3-location.ts'
import { encodeJsonLines } from '../files/encode.ts'
import type { ParquetSchema } from '../parquet/schema.ts'

/**
 * Options of `sink.s3`: where (`bucket`, `prefix`), the object format, and how to reach the store (the
 * S3Connection fields; the environment fills what is left out).
 * @example sink.s3({ bucket: 'lake', prefix: 'orders/', format: 'parquet', endpoint: 'http://127.0.0.1:9000' })
 */
export interface S3SinkOptions extends S3Connection {
  bucket: string
  /** Key prefix of the objects, a folder: 'orders' and 'orders/' both write `orders/part-...`. Default ''. */
  prefix?: string
  /** 'jsonl': one JSON object per line (changelog kinds as an `op` field). 'parquet': as sink.parquet writes. */
  format: 'jsonl' | 'parquet'
  /** Parquet: the columns (inferred from the first batch if omitted). */
  schema?: ParquetSchema
  /** Parquet: rows per row group. Default 100,000. */
  rowGroupSize?: number
  /** Parquet: add an `op` column with each record's changelog kind (see sink.parquet). */
  changelog?: boolean
  /** Bytes buffered before a part is uploaded: at least 5 MiB (S3's smallest part). Default 8 MiB. */
  partSize?: number
}

const FORMATS = { jsonl: { ext: 'jsonl', contentType: 'application/x-ndjson' }, parquet: { ext: 'parquet', contentType: 'application/vnd.apache.parquet' } } as const

/**
 * Writes objects to an S3-compatible bucket, one writer per subtask, exactly once by two-phase commit: each
 * checkpoint's records become `<prefix>part-<subtask>-<n>.<jsonl|parquet>` when the checkpoint completes, by
 * completing a multipart upload whose parts were uploaded as the records came (the last one at the barrier).
 * A restart completes what the restored checkpoint pre-committed, aborts the other uploads of the subtasks it
 * takes over, and deletes their objects of later checkpoints; a fresh run replaces the prefix's parts.
 * n is the first checkpoint that could close the object (the one after the writer's previous barrier), so
 * objects sort in output order by n, then subtask. Without checkpoints each subtask's records become one
 * object at the end of the run. Guarantee: exactly-once with checkpoints, at-least-once without.
 * @example .to(sink.s3({ bucket: 'lake', prefix: 'sessions', format: 'jsonl' }))
 */
export function s3<T>(options: S3SinkOptions): Sink<T> {
  const { bucket, format } = options
  if (typeof bucket !== 'string' || bucket === '') throw new SluiceError('SLUICE_BAD_OPTION', 'sink.s3 needs a bucket')
  if (format !== 'jsonl' && format !== 'parquet') throw new SluiceError('SLUICE_BAD_OPTION', `sink.s3: format must be 'jsonl' or 'parquet', not '${String(format)}'`)
  const partSize = options.partSize ?? 8 * 1024 * 1024
  if (!Number.isSafeInteger(partSize) || partSize < 5 * 1024 * 1024) throw new SluiceError('SLUICE_BAD_OPTION', 'sink.s3: partSize must be at least 5 MiB (5242880), the smallest part S3 takes')
  const folder = folderPrefix(options.prefix ?? '')
  return {
    kind: 's3',
    guarantee: 'exactly-once',
    guaranteeFor: (run) => (run.checkpointing ? 'exactly-once' : 'at-least-once'),
    describe: () => ({ kind: 's3', bucket, prefix: folder, format, commit: 'multipart uploads completed by two-phase commit' }),
    open: (ctx) => openWriter<T>({ ...options, prefix: folder, partSize }, ctx),
  }
}

async function openWriter<T>(o: S3SinkOptions & { prefix: string; partSize: number }, ctx: SinkContext): Promise<SinkWriter<T>> {
  const [{ s3Client }, { MultipartUploads }] = await Promise.all([import('../../checkpoint/object-store.ts'), import('./uploads.ts')])
  const uploads = new MultipartUploads({ client: s3Client(o), bucket: o.bucket, prefix: o.prefix, partBytes: o.partSize, ...FORMATS[o.format] }, ctx, 'sink.s3')
  const tpc = uploads.tpc
  let encode: (batch: Batch<unknown>) => Uint8Array | undefined
  let finish: () => Uint8Array | undefined = () => undefined
  if (o.format === 'parquet') {
    const { ParquetEncoder } = await import('../parquet/sink.ts')
    const encoder = new ParquetEncoder(o.schema, o.changelog, o.rowGroupSize ?? 100_000, ctx.stepId)
    encode = (batch) => encoder.add(batch)
    finish = () => encoder.finish()
  } else {
    encode = (batch) => Buffer.from(encodeJsonLines(batch, ctx))
  }
  const put = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : uploads.write(bytes))
  const preCommit = async (id: number) => {
    await put(finish())
    return tpc.preCommit(id)
  }
  return {
    write: (batch) => put(encode(batch as Batch<unknown>)),
    bytesWritten: () => uploads.bytesWritten,
    retries: () => uploads.retries,
    preCommit,
    commit: (id, handle) => tpc.commit(id, handle),
    recover: (restored) => tpc.recover(restored),
    async close() {
      // Without checkpoints the run's records are committed at its end, as one checkpoint.
      if (ctx.checkpointing !== true) await tpc.commit(1, await preCommit(1))
      await uploads.close()
    },
  }
}
