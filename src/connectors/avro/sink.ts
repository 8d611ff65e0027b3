import { mkdir, open, rename, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type avsclib from 'avsc'
import type { Batch } from '../../core/batch.ts'
import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import type { Sink, SinkContext, SinkWriter } from '../../core/sink.ts'
import { PartFiles } from '../files/part-files.ts'
import { AvroEncoder, avsc, type AvroCodec } from './container.ts'

/**
 * Options of `sink.avro`.
 * @example sink.avro('out/orders', { schema: { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }] } })
 */
export interface AvroSinkOptions {
  /** The Avro schema of the records (a record schema, as JSON or an avsc Type). */
  schema: avsclib.Schema | avsclib.Type
  /** Block compression: 'deflate' (default) or 'null'. */
  codec?: AvroCodec
}

/**
 * Writes records as Avro object container files (avsc encodes them; the schema is in each file's header). A
 * record that does not fit the schema goes to the pipeline's error path (SLUICE_RECORD_UNWRITABLE, naming the
 * field) and the others are written. Files are laid out as `sink.parquet` lays them out: without checkpoints
 * `path` is one file written at close and renamed into place (at-least-once on a rerun); with checkpoints `path`
 * is a folder of part files `path/part-<subtask>-<checkpoint>.avro` committed by two-phase commit: exactly once.
 * @example .to(sink.avro('out/orders', { schema: Order }))
 */
export function avro<T>(path: string, options: AvroSinkOptions): Sink<T> {
  if (typeof path !== 'string' || path === '') throw userError('SLUICE_BAD_ARGUMENT', 'sink.avro needs a path')
  const codec = options?.codec ?? 'deflate'
  if (codec !== 'null' && codec !== 'deflate') throw userError('SLUICE_BAD_OPTION', "sink.avro: codec must be 'null' or 'deflate'")
  let type: avsclib.Type
  try {
    type = options?.schema instanceof avsc().Type ? options.schema : avsc().Type.forSchema(options?.schema as avsclib.Schema)
  } catch (e) {
    throw userError('SLUICE_BAD_OPTION', `sink.avro: schema is not a valid Avro schema: ${errorMessage(e)}`, { cause: e })
  }
  return {
    kind: 'avro',
    guarantee: 'exactly-once',
    guaranteeFor: (run) => (run.checkpointing ? 'exactly-once' : 'at-least-once'),
    describe: () => ({ kind: 'avro', path, codec, schema: type.schema(), commit: 'file written at close; part files by two-phase commit with checkpoints' }),
    open(ctx): Promise<SinkWriter<T>> {
      const encoder = new AvroEncoder(type, codec, ctx.stepId)
      return ctx.checkpointing === true ? openParts(path, encoder, ctx) : openFile(path, encoder, ctx)
    },
  }
}

function rejecter(batch: Batch<unknown>, ctx: SinkContext): (index: number, error: unknown) => void {
  return (index, error) => {
    if (ctx.reject === undefined) throw error
    ctx.reject(batch, index, error)
  }
}

async function openParts<T>(path: string, encoder: AvroEncoder, ctx: SinkContext): Promise<SinkWriter<T>> {
  const parts = new PartFiles(path, ctx, { ext: 'avro', sink: 'sink.avro' })
  await parts.open()
  const tpc = parts.tpc
  const put = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : parts.write(bytes))
  return {
    write: (batch) => put(encoder.add(batch as Batch<unknown>, rejecter(batch as Batch<unknown>, ctx))),
    bytesWritten: () => parts.bytesWritten,
    async preCommit(id) {
      await put(encoder.finish())
      return tpc.preCommit(id)
    },
    commit: (id, handle) => tpc.commit(id, handle),
    recover: (restored) => tpc.recover(restored),
    close: () => parts.close(),
  }
}

async function openFile<T>(path: string, encoder: AvroEncoder, ctx: SinkContext): Promise<SinkWriter<T>> {
  const tmp = join(dirname(path), `.${basename(path)}.sluice-inprogress`)
  const io = async <R>(doing: string, fn: () => Promise<R>): Promise<R> => {
    try {
      return await fn()
    } catch (e) {
      if (e instanceof SluiceError) throw e
      throw new SluiceError('SLUICE_SINK_FAILED', `sink.avro: cannot ${doing} '${path}': ${errorMessage(e)}`, { domain: 'external', retryable: true, step: ctx.stepId, cause: e })
    }
  }
  await io('create the folder of', () => mkdir(dirname(path), { recursive: true }))
  const fh: FileHandle = await io('write', () => open(tmp, 'w'))
  let bytes = 0
  const put = (b: Uint8Array | undefined) => {
    if (b === undefined) return undefined
    bytes += b.byteLength
    return io('write', async () => void (await fh.write(b)))
  }
  return {
    write: (batch) => put(encoder.add(batch as Batch<unknown>, rejecter(batch as Batch<unknown>, ctx))),
    bytesWritten: () => bytes,
    async close() {
      await put(encoder.finish() ?? (bytes === 0 ? encoder.empty() : undefined))
      await io('write', async () => {
        await fh.sync()
        await fh.close()
      })
      await io('write', () => rename(tmp, path))
    },
  }
}
