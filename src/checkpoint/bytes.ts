import { deserialize, serialize } from 'node:v8'
import { SluiceError } from '../core/errors.ts'

/** Strings whose length field has this bit set are stored as UTF-16 (two bytes a unit); others as one byte a char. */
const WIDE = 0x80000000

/**
 * Appends binary data to one growing buffer. Checkpoints write hundreds of megabytes: made as one buffer per
 * value (what `v8.serialize` does), every buffer is external memory that only a full garbage collection of the
 * whole heap frees, and V8 starts one for every 64 MB of it. One buffer, grown by doubling and reused from one
 * checkpoint to the next (see `reuse`), leaves nothing for the collector to do.
 */
export class ByteWriter {
  private buf: Buffer
  private view: DataView
  pos = 0

  constructor(initial: Buffer = Buffer.allocUnsafe(1 << 16)) {
    this.buf = initial
    this.view = new DataView(initial.buffer, initial.byteOffset, initial.byteLength)
  }

  /** Bytes handed to the drain so far (see `drainTo`). */
  private drained = 0
  private drain: ((chunk: Uint8Array) => void) | undefined

  /** The buffer written so far: views of it share its memory (not while draining). */
  get buffer(): Buffer {
    return this.buf
  }

  /** Bytes written since the last `reset`, drained ones included. */
  get offset(): number {
    return this.drained + this.pos
  }

  /** Starts writing anew at the buffer's start. */
  reset(): void {
    this.pos = 0
    this.drained = 0
  }

  /**
   * From now on, whenever the buffer is full its bytes go to `drain` and the buffer is reused (undefined: the
   * buffer grows instead). A large checkpoint then needs no more memory than the buffer: memory allocated while
   * the heap holds large state costs full garbage collections of all of it.
   */
  drainTo(drain: ((chunk: Uint8Array) => void) | undefined): void {
    this.flush()
    this.drain = drain
  }

  /** Hands what the buffer holds to the drain, if there is one. */
  flush(): void {
    if (this.drain === undefined || this.pos === 0) return
    this.drain(this.buf.subarray(0, this.pos))
    this.drained += this.pos
    this.pos = 0
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.byteLength) return
    if (this.drain !== undefined) {
      this.flush()
      if (n <= this.buf.byteLength) return
    }
    let size = this.buf.byteLength * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength)
  }

  u8(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v
  }

  u32(v: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, v, true)
    this.pos += 4
  }

  f64(v: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, v, true)
    this.pos += 8
  }

  /**
   * An unsigned integer up to 2^53 in 7-bit groups (LEB128): one byte below 128, where a u32 or a double
   * takes four or eight.
   */
  varuint(v: number): void {
    this.ensure(8)
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.pos++] = v
  }

  /** A string, exactly (lone surrogates too): one byte a char when it is ASCII, UTF-16 otherwise. */
  str(s: string): void {
    const ascii = Buffer.byteLength(s, 'utf8') === s.length
    const n = ascii ? s.length : 2 * s.length
    this.ensure(4 + n)
    this.view.setUint32(this.pos, ascii ? n : (n | WIDE) >>> 0, true)
    this.pos += 4
    if (n > 0) this.buf.write(s, this.pos, n, ascii ? 'latin1' : 'utf16le')
    this.pos += n
  }

  /** Any value v8 can serialize, with its length. */
  value(v: unknown): void {
    const b = serialize(v)
    this.u32(b.byteLength)
    this.ensure(b.byteLength)
    this.buf.set(b, this.pos)
    this.pos += b.byteLength
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    this.ensure(b.byteLength)
    this.buf.set(b, this.pos)
    this.pos += b.byteLength
  }
}

/** Reads what a ByteWriter wrote; reading past the end is a SLUICE_CHECKPOINT_CORRUPT error naming `what`. */
export class ByteReader {
  private readonly buf: Buffer
  private readonly view: DataView
  private readonly end: number
  private readonly what: string
  pos: number

  constructor(buf: Buffer, what: string, from = 0, to = buf.byteLength) {
    this.buf = buf
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.pos = from
    this.end = to
    this.what = what
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `${this.what} ends early (at byte ${this.pos}, ${n} more expected)`, { domain: 'external' })
  }

  u8(): number {
    this.need(1)
    return this.buf[this.pos++]
  }

  u32(): number {
    this.need(4)
    const v = this.view.getUint32(this.pos, true)
    this.pos += 4
    return v
  }

  f64(): number {
    this.need(8)
    const v = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }

  /** What `varuint` wrote. */
  varuint(): number {
    let v = 0
    let scale = 1
    for (;;) {
      this.need(1)
      const b = this.buf[this.pos++]
      v += (b & 0x7f) * scale
      if (b < 0x80) return v
      scale *= 0x80
      if (scale > 2 ** 56) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `${this.what}: a variable-length integer longer than 8 bytes at byte ${this.pos}`, { domain: 'external' })
    }
  }

  str(): string {
    const h = this.u32()
    const n = (h & ~WIDE) >>> 0
    this.need(n)
    const at = this.pos
    this.pos += n
    return this.buf.toString(h & WIDE ? 'utf16le' : 'latin1', at, at + n)
  }

  /**
   * Strings that `str` wrote joined, cut at `lengths` (UTF-16 units). Each is its own copy: slices of one big
   * string would keep all of it alive for as long as any of them lives.
   */
  strs(lengths: number[]): string[] {
    const h = this.u32()
    const wide = (h & WIDE) !== 0
    const n = (h & ~WIDE) >>> 0
    this.need(n)
    const unit = wide ? 2 : 1
    let total = 0
    for (const len of lengths) total += len * unit
    if (total !== n) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `${this.what}: strings of ${total} bytes in ${n}`, { domain: 'external' })
    const out: string[] = []
    let at = this.pos
    const encoding = wide ? 'utf16le' : 'latin1'
    for (const len of lengths) {
      out.push(len === 0 ? '' : this.buf.toString(encoding, at, at + len * unit))
      at += len * unit
    }
    this.pos += n
    return out
  }

  value(): unknown {
    const n = this.u32()
    this.need(n)
    const v = deserialize(this.buf.subarray(this.pos, this.pos + n))
    this.pos += n
    return v
  }
}
