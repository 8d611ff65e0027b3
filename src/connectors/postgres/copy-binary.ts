import type { ParquetType } from '../parquet/schema.ts'
import type { StagedRows } from '../sql/dialect.ts'

/**
 * Postgres COPY binary format: numbers go as their bytes (no number-to-text and back), which makes it the
 * cheaper format on both sides. It needs each column's type to be exactly the one written (BIGINT, DOUBLE
 * PRECISION, TEXT, BOOLEAN, TIMESTAMPTZ, JSONB: the types the sink creates); tables made elsewhere with other
 * types get COPY text.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')

/** Bytes are sent about this many at a time. */
const CHUNK = 1 << 18
/** Microseconds from the Unix epoch to Postgres's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000
const TWO_32 = 4_294_967_296

const bigintsAsText = (_: string, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)

/** Writes rows in chunks, growing a chunk when one value needs more room than is left. */
class ChunkWriter {
  buf = Buffer.allocUnsafe(CHUNK)
  at = 0
  readonly done: Buffer[] = []

  room(n: number): void {
    if (this.at + n <= this.buf.length) return
    this.cut()
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n)
  }

  /** Ends the current chunk if it is full enough. */
  maybeCut(): void {
    if (this.at >= CHUNK - 1024) this.cut()
  }

  cut(): void {
    if (this.at === 0) return
    this.done.push(this.buf.subarray(0, this.at))
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, this.buf.length))
    this.at = 0
  }

  int64(v: number | bigint): void {
    this.room(12)
    const b = this.buf
    b.writeInt32BE(8, this.at)
    if (typeof v === 'bigint') b.writeBigInt64BE(v, this.at + 4)
    else {
      const hi = Math.floor(v / TWO_32)
      b.writeInt32BE(hi, this.at + 4)
      b.writeUInt32BE(v - hi * TWO_32, this.at + 8)
    }
    this.at += 12
  }

  text(s: string, prefix?: number): void {
    const extra = prefix === undefined ? 0 : 1
    this.room(4 + extra + s.length * 3)
    const b = this.buf
    const start = this.at + 4
    if (prefix !== undefined) b[start] = prefix
    let n = extra
    // Short ASCII text byte by byte: cheaper than a call into the encoder for each value.
    const len = s.length
    if (len < 64) {
      let p = start + extra
      for (let i = 0; i < len; i++) {
        const ch = s.charCodeAt(i)
        if (ch >= 0x80) {
          n = -1
          break
        }
        b[p++] = ch
      }
      if (n !== -1) n += len
    } else n = -1
    if (n === -1) n = b.write(s, start + extra) + extra
    b.writeInt32BE(n, this.at)
    this.at = start + n
  }

  null(): void {
    this.room(4)
    this.buf.writeInt32BE(-1, this.at)
    this.at += 4
  }

  int16(n: number): void {
    this.room(2)
    this.buf.writeInt16BE(n, this.at)
    this.at += 2
  }
}

type Encode = (w: ChunkWriter, v: unknown) => void

const ENCODE: Record<ParquetType, Encode> = {
  int64: (w, v) => w.int64(v as number | bigint),
  double: (w, v) => {
    w.room(12)
    w.buf.writeInt32BE(8, w.at)
    w.buf.writeDoubleBE(v as number, w.at + 4)
    w.at += 12
  },
  string: (w, v) => w.text(v as string),
  boolean: (w, v) => {
    w.room(5)
    w.buf.writeInt32BE(1, w.at)
    w.buf[w.at + 4] = v ? 1 : 0
    w.at += 5
  },
  timestamp: (w, v) => {
    const ms = Number(v as number | bigint) - PG_EPOCH_MS
    w.int64(ms * 1000)
  },
  json: (w, v) => w.text(JSON.stringify(v, bigintsAsText), 1), // JSONB: version 1, then the text
}

/**
 * Rows in COPY binary format, in chunks: the header, each row's data columns (then for a staging table,
 * `staged`, `_sluice_key`, `_sluice_op`, `_sluice_seq` and a null `_sluice_checkpoint`, or with `appendOnly`
 * `_sluice_seq` alone), and the trailer.
 */
export function* copyBinaryChunks(rows: StagedRows, staged: boolean): Generator<Buffer> {
  const { ops, keys } = rows
  const data = rows.columns.map((c) => c.data)
  const encode = rows.columns.map((c) => ENCODE[c.type])
  const appendOnly = rows.appendOnly === true
  const fields = data.length + (!staged ? 0 : appendOnly ? 1 : 4)
  const w = new ChunkWriter()
  w.room(SIGNATURE.length + 8)
  SIGNATURE.copy(w.buf, 0)
  w.buf.fill(0, SIGNATURE.length, SIGNATURE.length + 8) // flags, header extension length
  w.at = SIGNATURE.length + 8
  let seq = rows.firstSeq
  const n = ops.length
  for (let i = 0; i < n; i++) {
    w.int16(fields)
    for (let c = 0; c < data.length; c++) {
      const v = data[c][i]
      if (v === null || v === undefined) w.null()
      else encode[c](w, v)
    }
    if (staged && appendOnly) w.int64(seq++)
    else if (staged) {
      if (keys === undefined) w.null()
      else w.text(keys[i])
      w.text(ops[i])
      w.int64(seq++)
      w.null()
    }
    w.maybeCut()
    if (w.done.length > 0) yield* w.done.splice(0)
  }
  w.int16(-1)
  w.cut()
  yield* w.done
}
