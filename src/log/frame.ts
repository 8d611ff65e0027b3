import { SluiceError } from '../core/errors.ts'
import { crc32 } from './crc.ts'

/**
 * The byte layout of segment files (see FORMAT.md): a 16-byte header, then frames
 * `[u32 bodyLength][u32 crc32(body)][body]`, the body being
 * `[u64 offset][i64 timestamp][u8 attributes][i32 keyLength, -1 = no key][u32 valueLength][key][value][headers]`.
 * All integers little-endian.
 */
export const SEGMENT_MAGIC = 0x474f4c53 // 'SLOG' read as a little-endian u32
export const FORMAT_VERSION = 1
export const SEGMENT_HEADER_BYTES = 16
export const FRAME_HEAD_BYTES = 8
export const BODY_FIXED_BYTES = 25
const ATTR_HEADERS = 1
const TWO_32 = 4294967296

/** A record to append. Strings are written as UTF-8; they come back as bytes. */
export interface LogRecordInput {
  value: Uint8Array | string
  key?: Uint8Array | string | null
  /** Epoch milliseconds (an integer); default: the log's clock at append time. */
  timestamp?: number
  headers?: Record<string, Uint8Array | string>
}

/** Where sparse index entries go while a batch is encoded: one every `interval` bytes of frames. */
export interface IndexSink {
  readonly interval: number
  bytesSinceEntry: number
  /** Largest timestamp of the records encoded so far into the segment. */
  maxTimestamp: number
  addEntry(offset: number, position: number, maxTimestampBefore: number): void
}

export interface EncodedBatch {
  buf: Buffer
  count: number
  maxTimestamp: number
}

/**
 * Encodes records as consecutive frames with offsets from `firstOffset`, the first one at byte
 * `position` of its segment. Index entries go to `index` as they fall due.
 */
export function encodeBatch(records: readonly LogRecordInput[], firstOffset: number, position: number, now: number, maxRecordBytes: number, index: IndexSink): EncodedBatch {
  const n = records.length
  const sizes = new Array<number>(n)
  let total = 0
  for (let i = 0; i < n; i++) {
    const r = records[i]
    if (r === null || typeof r !== 'object') throw badRecord(i, 'is not an object')
    let size = FRAME_HEAD_BYTES + BODY_FIXED_BYTES + byteLength(r.value, i, 'value')
    if (r.key !== undefined && r.key !== null) size += byteLength(r.key, i, 'key')
    if (r.headers !== undefined) size += headersLength(r.headers, i)
    if (r.timestamp !== undefined && !Number.isSafeInteger(r.timestamp)) throw badRecord(i, `has timestamp ${String(r.timestamp)}; it must be an integer number of epoch milliseconds`)
    if (size > maxRecordBytes) throw badRecord(i, `takes ${size} bytes, more than maxRecordBytes (${maxRecordBytes})`)
    sizes[i] = size
    total += size
  }
  const buf = Buffer.allocUnsafe(total)
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  let p = 0
  let maxTs = index.maxTimestamp
  let batchMax = -Infinity
  for (let i = 0; i < n; i++) {
    const r = records[i]
    const offset = firstOffset + i
    if (index.bytesSinceEntry >= index.interval) {
      index.addEntry(offset, position + p, maxTs)
      index.bytesSinceEntry = 0
    }
    const ts = r.timestamp ?? now
    const start = p
    const body = p + FRAME_HEAD_BYTES
    dv.setUint32(body, offset % TWO_32, true)
    dv.setUint32(body + 4, Math.floor(offset / TWO_32), true)
    const tsHi = Math.floor(ts / TWO_32)
    dv.setUint32(body + 8, ts - tsHi * TWO_32, true)
    dv.setInt32(body + 12, tsHi, true)
    p = body + BODY_FIXED_BYTES
    const key = r.key
    if (key === undefined || key === null) {
      dv.setInt32(body + 17, -1, true)
    } else {
      const kl = writeBytes(buf, p, key)
      dv.setInt32(body + 17, kl, true)
      p += kl
    }
    const vl = writeBytes(buf, p, r.value)
    dv.setUint32(body + 21, vl, true)
    p += vl
    let attrs = 0
    if (r.headers !== undefined) {
      attrs |= ATTR_HEADERS
      p = writeHeaders(buf, dv, p, r.headers)
    }
    buf[body + 16] = attrs
    dv.setUint32(start, p - body, true)
    dv.setUint32(start + 4, crc32(buf, body, p), true)
    if (ts > maxTs) maxTs = ts
    if (ts > batchMax) batchMax = ts
    index.bytesSinceEntry += p - start
    if (p - start !== sizes[i]) throw new SluiceError('SLUICE_INTERNAL', `log record ${i} encoded to ${p - start} bytes, expected ${sizes[i]}`, { domain: 'internal' })
  }
  index.maxTimestamp = maxTs
  return { buf, count: n, maxTimestamp: batchMax }
}

/** One decoded frame: its fields, and byte ranges of key and value inside the buffer it was read from. */
export interface FrameView {
  offset: number
  timestamp: number
  /** -1 when the record has no key. */
  keyStart: number
  keyEnd: number
  valueStart: number
  valueEnd: number
  headersStart: number
  /** End of the frame (start of the next one). */
  end: number
}

export type FrameCheck = 'ok' | 'partial' | 'bad-length' | 'bad-crc' | 'bad-body'

/**
 * Checks the frame at `p` of `buf` (which holds bytes up to `limit`), and fills `out` when it is whole
 * and its CRC matches. 'partial' means the frame runs past `limit`; `out.end` then says where it ends.
 */
export function readFrame(buf: Buffer, dv: DataView, p: number, limit: number, maxRecordBytes: number, verify: boolean, out: FrameView): FrameCheck {
  if (limit - p < FRAME_HEAD_BYTES) {
    out.end = p + FRAME_HEAD_BYTES + BODY_FIXED_BYTES
    return 'partial'
  }
  const len = dv.getUint32(p, true)
  if (len < BODY_FIXED_BYTES || len + FRAME_HEAD_BYTES > maxRecordBytes) return 'bad-length'
  const body = p + FRAME_HEAD_BYTES
  const end = body + len
  out.end = end
  if (end > limit) return 'partial'
  if (verify && crc32(buf, body, end) !== dv.getUint32(p + 4, true)) return 'bad-crc'
  out.offset = dv.getUint32(body, true) + dv.getUint32(body + 4, true) * TWO_32
  out.timestamp = dv.getUint32(body + 8, true) + dv.getInt32(body + 12, true) * TWO_32
  const keyLen = dv.getInt32(body + 17, true)
  const valueLen = dv.getUint32(body + 21, true)
  let q = body + BODY_FIXED_BYTES
  if (keyLen >= 0) {
    out.keyStart = q
    q += keyLen
    out.keyEnd = q
  } else {
    if (keyLen !== -1) return 'bad-body'
    out.keyStart = -1
    out.keyEnd = -1
  }
  out.valueStart = q
  q += valueLen
  out.valueEnd = q
  if ((buf[body + 16] & ATTR_HEADERS) !== 0) {
    out.headersStart = q
    if (q > end) return 'bad-body'
  } else {
    out.headersStart = -1
    if (q !== end) return 'bad-body'
  }
  return 'ok'
}

export function newFrameView(): FrameView {
  return { offset: 0, timestamp: 0, keyStart: -1, keyEnd: -1, valueStart: 0, valueEnd: 0, headersStart: -1, end: 0 }
}

/** The headers of a frame whose `headersStart` is not -1. */
export function decodeHeaders(buf: Buffer, dv: DataView, p: number, end: number): Record<string, Buffer> {
  const out: Record<string, Buffer> = {}
  const count = dv.getUint16(p, true)
  p += 2
  for (let i = 0; i < count; i++) {
    const nl = dv.getUint16(p, true)
    const name = buf.toString('utf8', p + 2, p + 2 + nl)
    p += 2 + nl
    const vl = dv.getUint32(p, true)
    out[name] = buf.subarray(p + 4, p + 4 + vl)
    p += 4 + vl
    if (p > end) throw new SluiceError('SLUICE_LOG_CORRUPT', 'a log record has headers that run past its end', { domain: 'internal' })
  }
  return out
}

export function writeSegmentHeader(baseOffset: number): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES)
  b.writeUInt32LE(SEGMENT_MAGIC, 0)
  b.writeUInt16LE(FORMAT_VERSION, 4)
  b.writeUInt16LE(0, 6)
  b.writeUInt32LE(baseOffset % TWO_32, 8)
  b.writeUInt32LE(Math.floor(baseOffset / TWO_32), 12)
  return b
}

/** Why a segment header is unusable, or undefined when it is fine. */
export function checkSegmentHeader(b: Buffer, baseOffset: number): string | undefined {
  if (b.length < SEGMENT_HEADER_BYTES) return 'header is cut short'
  if (b.readUInt32LE(0) !== SEGMENT_MAGIC) return 'not a Sluice log segment (bad magic)'
  const v = b.readUInt16LE(4)
  if (v !== FORMAT_VERSION) return `format version ${v} is not supported (expected ${FORMAT_VERSION})`
  const base = b.readUInt32LE(8) + b.readUInt32LE(12) * TWO_32
  if (base !== baseOffset) return `header says base offset ${base}, the file name ${baseOffset}`
  return undefined
}

function byteLength(v: unknown, i: number, what: string): number {
  if (v instanceof Uint8Array) return v.byteLength
  if (typeof v === 'string') return Buffer.byteLength(v)
  throw badRecord(i, `has a ${what} of type ${v === null ? 'null' : typeof v}; use a Uint8Array (Buffer) or a string`)
}

function writeBytes(buf: Buffer, p: number, v: Uint8Array | string): number {
  if (typeof v === 'string') return buf.write(v, p, 'utf8')
  buf.set(v, p)
  return v.byteLength
}

function headersLength(h: Record<string, Uint8Array | string>, i: number): number {
  if (h === null || typeof h !== 'object') throw badRecord(i, 'has headers that are not an object')
  let n = 2
  let count = 0
  for (const name in h) {
    const nl = Buffer.byteLength(name)
    if (nl > 0xffff) throw badRecord(i, 'has a header name longer than 65535 bytes')
    n += 2 + nl + 4 + byteLength(h[name], i, `header '${name}'`)
    count++
  }
  if (count > 0xffff) throw badRecord(i, 'has more than 65535 headers')
  return n
}

function writeHeaders(buf: Buffer, dv: DataView, p: number, h: Record<string, Uint8Array | string>): number {
  const countAt = p
  p += 2
  let count = 0
  for (const name in h) {
    const nl = buf.write(name, p + 2, 'utf8')
    dv.setUint16(p, nl, true)
    p += 2 + nl
    const vl = writeBytes(buf, p + 4, h[name])
    dv.setUint32(p, vl, true)
    p += 4 + vl
    count++
  }
  dv.setUint16(countAt, count, true)
  return p
}

function badRecord(i: number, what: string): SluiceError {
  return new SluiceError('SLUICE_LOG_BAD_RECORD', `record ${i} of the batch ${what}`, { position: i })
}
