import { randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import type avro from 'avsc'
import type { Batch } from '../../core/batch.ts'
import { SluiceError } from '../../core/errors.ts'
import { lazyRequire } from '../../core/lazy-require.ts'

export const avsc = lazyRequire<typeof avro>(import.meta.url, 'avsc')

/** Compression of the blocks of an Avro object container file. */
export type AvroCodec = 'null' | 'deflate'

/** Records are gathered into blocks of about this many bytes before they are compressed. */
const BLOCK_BYTES = 1 << 16

/**
 * Encodes records into one Avro object container file at a time (the format of the Avro specification: magic,
 * metadata with the schema and codec, a sync marker, then blocks of records each followed by the marker).
 * `add` returns the bytes of the blocks it filled (the header first, for a new file); `finish` the last block.
 * A record that does not fit the schema goes to `reject` (the pipeline's error path), not into the file.
 */
export class AvroEncoder {
  private readonly type: avro.Type
  private readonly schemaJson: string
  private readonly codec: AvroCodec
  private readonly step: string
  private sync: Buffer | undefined
  private block: Buffer[] = []
  private blockBytes = 0
  private blockCount = 0

  constructor(schema: avro.Schema | avro.Type, codec: AvroCodec, step: string) {
    const lib = avsc()
    this.type = schema instanceof lib.Type ? schema : lib.Type.forSchema(schema as avro.Schema)
    this.schemaJson = JSON.stringify(this.type.schema())
    this.codec = codec
    this.step = step
  }

  /** Encodes a batch; `reject(i, error)` is called for a record that does not fit the schema. */
  add(batch: Batch<unknown>, reject: (index: number, error: unknown) => void): Uint8Array | undefined {
    const out: Buffer[] = []
    if (this.sync === undefined) out.push(this.header())
    const { values } = batch
    for (let i = 0; i < values.length; i++) {
      let bytes: Buffer
      try {
        bytes = this.type.toBuffer(values[i])
      } catch (e) {
        // avsc's message holds the value: name the field instead.
        let field = ''
        this.type.isValid(values[i], { errorHook: (path: string[]) => (field ||= path.join('.')) })
        reject(i, new SluiceError('SLUICE_RECORD_UNWRITABLE', `sink.avro: the record does not fit the schema${field === '' ? '' : ` (field '${field}')`}`, { domain: 'user', step: this.step, position: batch.pos?.[i], cause: e }))
        continue
      }
      this.block.push(bytes)
      this.blockBytes += bytes.byteLength
      this.blockCount++
      if (this.blockBytes >= BLOCK_BYTES) out.push(this.endBlock())
    }
    return out.length === 0 ? undefined : out.length === 1 ? out[0] : Buffer.concat(out)
  }

  /** Ends the file: its last block. Undefined when nothing was written since the last `finish`. */
  finish(): Uint8Array | undefined {
    if (this.sync === undefined) return undefined
    const tail = this.blockCount > 0 ? this.endBlock() : undefined
    this.sync = undefined
    return tail
  }

  /** A file with the header only (a run without records still replaces its file). */
  empty(): Uint8Array {
    const h = this.header()
    this.sync = undefined
    return h
  }

  private header(): Buffer {
    this.sync = randomBytes(16)
    const meta = { 'avro.schema': Buffer.from(this.schemaJson), 'avro.codec': Buffer.from(this.codec) }
    return Buffer.concat([Buffer.from('Obj\x01', 'latin1'), MAP_OF_BYTES().toBuffer(meta), this.sync])
  }

  private endBlock(): Buffer {
    const raw = this.block.length === 1 ? this.block[0] : Buffer.concat(this.block, this.blockBytes)
    const data = this.codec === 'deflate' ? deflateRawSync(raw) : raw
    const long = LONG()
    const out = Buffer.concat([long.toBuffer(this.blockCount), long.toBuffer(data.byteLength), data, this.sync!])
    this.block = []
    this.blockBytes = 0
    this.blockCount = 0
    return out
  }
}

let mapType: avro.Type | undefined
let longType: avro.Type | undefined
const MAP_OF_BYTES = () => (mapType ??= avsc().Type.forSchema({ type: 'map', values: 'bytes' }))
const LONG = () => (longType ??= avsc().Type.forSchema('long'))
