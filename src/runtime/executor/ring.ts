import type { Column, WireBatch } from './batch-codec.ts'

/** Bytes of one ring (one direction between two threads); allocated when the first batch goes that way. */
export const RING_BYTES = 4 * 1024 * 1024

/**
 * A batch whose columns of numbers and strings lie in the sender's ring; the message that carries it holds
 * only their offsets, and what does not fit (or is no column of numbers or strings) goes as it is.
 */
export interface RingBatch {
  n: number
  values: RingColumn
  /** Offset of the times (doubles) in the ring, or the times themselves. */
  times: number | Float64Array
  keys?: RingColumn
  kinds?: Uint8Array
  pos?: RingColumn
  at?: number
}

export type RingColumn =
  | Exclude<Column, { k: 'o' }>
  | { k: 'o'; keys: string[]; cols: RingColumn[] }
  /** `n` doubles at byte `at`. */
  | { k: 'rn'; at: number }
  /** `n` string lengths (uint32) at byte `at`, then the strings, `bytes` long from byte `text`: one byte a character (`wide` false) or UTF-16. */
  | { k: 'rs'; at: number; text: number; bytes: number; wide: boolean }

/**
 * The sending end of a ring of bytes in a `SharedArrayBuffer`, written by one thread and read by one other.
 * Batches are copied in as they are posted and read out when the message that names them arrives, so ring
 * order is message order and nothing needs a lock: the writer gets space back when the reader gives credit for
 * the bundles that used it (a bundle is read before it is credited). Data that does not fit goes by
 * `postMessage` as before, so a slow reader never blocks a writer.
 *
 * @example
 * const ring = new RingWriter(1 << 20)
 * const wire = ring.put(encodeBatch(batch)) // offsets into ring.buffer
 * ring.endBundle() // after posting it; ring.release(1) when its credit comes back
 */
export class RingWriter {
  readonly buffer: SharedArrayBuffer
  private readonly size: number
  private readonly bytes: Buffer
  private readonly f64: Float64Array
  private readonly u32: Uint32Array
  /** Bytes ever allocated and ever released (positions are these modulo the size). */
  private head = 0
  private tail = 0
  /** `head` at the end of each bundle not yet credited, oldest first. */
  private readonly ends: number[] = []
  /** Set once the buffer has been sent to the reader. */
  shared = false

  constructor(size = RING_BYTES) {
    this.size = size
    this.buffer = new SharedArrayBuffer(size)
    this.bytes = Buffer.from(this.buffer)
    this.f64 = new Float64Array(this.buffer)
    this.u32 = new Uint32Array(this.buffer)
  }

  /** `w` with its columns of numbers and strings copied into the ring, as far as they fit. */
  put(w: WireBatch): RingBatch {
    const r: RingBatch = { n: w.n, values: this.column(w.values, w.n), times: this.doubles(w.times) ?? w.times }
    if (w.keys !== undefined) r.keys = this.column(w.keys, w.n)
    if (w.kinds !== undefined) r.kinds = w.kinds
    if (w.pos !== undefined) r.pos = this.column(w.pos, w.n)
    if (w.at !== undefined) r.at = w.at
    return r
  }

  /** The bundle just posted used what was allocated since the last one. */
  endBundle(): void {
    this.ends.push(this.head)
  }

  /** The reader has credited the `n` oldest bundles: their bytes are free. */
  release(n: number): void {
    for (let i = 0; i < n && this.ends.length > 0; i++) this.tail = this.ends.shift()!
  }

  private column(c: Column, n: number): RingColumn {
    switch (c.k) {
      case 'n': {
        const at = this.doubles(c.a)
        return at === undefined ? c : { k: 'rn', at }
      }
      case 's':
        return this.strings(c, n) ?? c
      case 'o':
        return { k: 'o', keys: c.keys, cols: c.cols.map((x) => this.column(x, n)) }
      default:
        return c
    }
  }

  private doubles(a: Float64Array): number | undefined {
    const at = this.alloc(a.length * 8, 8)
    if (at >= 0) this.f64.set(a, at / 8)
    return at < 0 ? undefined : at
  }

  private strings(c: Extract<Column, { k: 's' }>, n: number): RingColumn | undefined {
    const { joined, lengths } = c
    // A string whose UTF-8 form has one byte per UTF-16 unit is ASCII: it goes as one byte a character (read back
    // as a one-byte string, as the source made it); any other goes as UTF-16 units, which keeps lone surrogates.
    const wide = Buffer.byteLength(joined, 'utf8') !== joined.length
    const bytes = wide ? joined.length * 2 : joined.length
    // The lengths and the text in one allocation, so a bundle's space is one run of bytes.
    const lenBytes = (n * 4 + 7) & ~7
    const at = this.alloc(lenBytes + bytes, 8)
    if (at < 0) return undefined
    this.u32.set(lengths, at / 4)
    const text = at + lenBytes
    this.bytes.write(joined, text, bytes, wide ? 'utf16le' : 'latin1')
    return { k: 'rs', at, text, bytes, wide }
  }

  /** Byte offset of `len` free bytes aligned to `align`, or -1 if the ring has no such run free now. */
  private alloc(len: number, align: number): number {
    let pos = this.head % this.size
    let head = this.head
    const pad = (align - (pos % align)) % align
    head += pad
    pos += pad
    // A run never wraps: skip the end of the buffer instead.
    if (pos + len > this.size) {
      head += this.size - pos
      pos = 0
    }
    if (head + len - this.tail > this.size) return -1
    this.head = head + len
    return pos
  }
}

/** The receiving end of another thread's ring: turns a RingBatch back into the WireBatch that was put. */
export class RingReader {
  private readonly buffer: SharedArrayBuffer
  private readonly bytes: Buffer

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer
    this.bytes = Buffer.from(buffer)
  }

  /** The batch, its arrays views of the ring: decode it before crediting the bundle. */
  take(r: RingBatch): WireBatch {
    const w: WireBatch = { n: r.n, values: this.column(r.values, r.n), times: typeof r.times === 'number' ? new Float64Array(this.buffer, r.times, r.n) : r.times }
    if (r.keys !== undefined) w.keys = this.column(r.keys, r.n)
    if (r.kinds !== undefined) w.kinds = r.kinds
    if (r.pos !== undefined) w.pos = this.column(r.pos, r.n)
    if (r.at !== undefined) w.at = r.at
    return w
  }

  private column(c: RingColumn, n: number): Column {
    switch (c.k) {
      case 'rn':
        return { k: 'n', a: new Float64Array(this.buffer, c.at, n) }
      case 'rs': {
        const end = c.text + c.bytes
        const joined = this.bytes.toString(c.wide ? 'utf16le' : 'latin1', c.text, end)
        return { k: 's', lengths: new Uint32Array(this.buffer, c.at, n), joined }
      }
      case 'o':
        return { k: 'o', keys: c.keys, cols: c.cols.map((x) => this.column(x, n)) }
      default:
        return c
    }
  }
}
