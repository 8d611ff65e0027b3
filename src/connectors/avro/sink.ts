import type avsclib from 'avsc'
import type { Batch } from '../../core/batch.ts'
import { errorMessage, userError } from '../../core/errors.ts'
import type { Sink, SinkContext, SinkWriter } from '../../core/sink.ts'
import { openEncodedFile } from '../files/encoded-file-sink.ts'
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
 * @example .to(sink.avro('out/orders', { schema: { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }] } }))
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
      const avro = new AvroEncoder(type, codec, ctx.stepId)
      const encoder = { add: (b: Batch<unknown>) => avro.add(b, rejecter(b, ctx)), finish: () => avro.finish(), empty: () => avro.empty() }
      return openEncodedFile(path, encoder, ctx, { ext: 'avro', sink: 'sink.avro' })
    },
  }
}

function rejecter(batch: Batch<unknown>, ctx: SinkContext): (index: number, error: unknown) => void {
  return (index, error) => {
    if (ctx.reject === undefined) throw error
    ctx.reject(batch, index, error)
  }
}
