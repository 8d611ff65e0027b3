import { open, type FileHandle } from 'node:fs/promises'
import { inflateRawSync } from 'node:zlib'
import type avro from 'avsc'
import { avsc } from './container.ts'

/** One block of an Avro object container file: its records, decoded, and where the next block starts. */
export interface AvroBlock {
  records: unknown[]
  next: number
}

/**
 * Reads an Avro object container file block by block at byte offsets (the specification's layout: magic,
 * metadata with the schema and codec, a 16-byte sync marker, then blocks of `count, size, data, sync`), so a
 * reader can start at any block: a restore goes to the block it stood in, without decoding what came before.
 * Codecs: null and deflate.
 */
export class AvroBlockReader {
  private readonly file: string
  private readonly readerSchema: avro.Type | undefined
  private fh: FileHandle | undefined
  private type: avro.Type | undefined
  private resolver: avro.Resolver | undefined
  private codec = 'null'
  private sync: Buffer | undefined
  /** Where the first block starts. */
  first = 0

  constructor(file: string, readerSchema: avro.Type | undefined) {
    this.file = file
    this.readerSchema = readerSchema
  }

  /** Opens the file and reads its header. */
  async open(): Promise<void> {
    this.fh = await open(this.file, 'r')
    const lib = avsc()
    for (let size = 1 << 12; ; size *= 4) {
      const head = await this.bytes(0, size)
      if (head.length < 4 || head.toString('latin1', 0, 4) !== 'Obj\x01') throw new Error('not an Avro object container file (no magic bytes)')
      const meta = META().decode(head, 4)
      if (meta.offset < 0 || meta.offset + 16 > head.length) {
        if (head.length < size) throw new Error('the header is cut short')
        continue
      }
      const m = meta.value as Record<string, Buffer>
      const writer = lib.Type.forSchema(JSON.parse(m['avro.schema'].toString('utf8')) as avro.Schema)
      this.codec = m['avro.codec']?.toString('utf8') || 'null'
      if (this.codec !== 'null' && this.codec !== 'deflate') throw new Error(`the codec '${this.codec}' is not supported (null, deflate)`)
      this.type = this.readerSchema ?? writer
      this.resolver = this.readerSchema === undefined ? undefined : this.readerSchema.createResolver(writer)
      this.sync = head.subarray(meta.offset, meta.offset + 16)
      this.first = meta.offset + 16
      return
    }
  }

  private async bytes(at: number, n: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(n)
    const { bytesRead } = await this.fh!.read(buf, 0, n, at)
    return buf.subarray(0, bytesRead)
  }

  /** The block at byte offset `at`: its records decoded unless `skip` (then only counted), or undefined at the end of the file. */
  async block(at: number, skip = false): Promise<(AvroBlock & { count: number }) | undefined> {
    const head = await this.bytes(at, 20)
    if (head.length === 0) return undefined
    const count = LONG().decode(head, 0)
    const size = count.offset < 0 ? count : LONG().decode(head, count.offset)
    if (count.offset < 0 || size.offset < 0) throw new Error(`the block at byte ${at} is cut short`)
    const n = Number(count.value)
    const start = at + size.offset
    const next = start + Number(size.value) + 16
    const marker = await this.bytes(next - 16, 16)
    if (!marker.equals(this.sync!)) throw new Error(`the block at byte ${at} does not end with the file's sync marker`)
    if (skip) return { records: [], next, count: n }
    const raw = await this.bytes(start, Number(size.value))
    const data = this.codec === 'deflate' ? inflateRawSync(raw) : raw
    const records = new Array<unknown>(n)
    let pos = 0
    for (let i = 0; i < n; i++) {
      const r = this.type!.decode(data, pos, this.resolver)
      if (r.offset < 0) throw new Error(`the block at byte ${at} holds fewer records than it says`)
      records[i] = r.value
      pos = r.offset
    }
    return { records, next, count: n }
  }

  async close(): Promise<void> {
    await this.fh?.close()
    this.fh = undefined
  }
}

let metaType: avro.Type | undefined
let longType: avro.Type | undefined
const META = () => (metaType ??= avsc().Type.forSchema({ type: 'map', values: 'bytes' }))
const LONG = () => (longType ??= avsc().Type.forSchema('long'))
