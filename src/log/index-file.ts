import type { IndexSink } from './frame.ts'
import { crc32 } from './crc.ts'

/**
 * The sparse index of one segment, offsets and times together: an entry every `interval` bytes of
 * frames gives a record's offset, its byte position, and the largest timestamp of the records before
 * it in the segment (so entries are ordered by time too, even when timestamps are not). The first record
 * of a segment has no entry; it sits right after the segment header.
 */
export class SparseIndex implements IndexSink {
  readonly interval: number
  bytesSinceEntry = 0
  maxTimestamp = -Infinity
  readonly offsets: number[] = []
  readonly positions: number[] = []
  readonly maxTimestampsBefore: number[] = []

  constructor(interval: number) {
    this.interval = interval
  }

  get length(): number {
    return this.offsets.length
  }

  addEntry(offset: number, position: number, maxTimestampBefore: number): void {
    this.offsets.push(offset)
    this.positions.push(position)
    this.maxTimestampsBefore.push(maxTimestampBefore)
  }

  /** The last entry whose offset is <= `offset`, or -1. */
  floorOffset(offset: number): number {
    return lastWhere(this.offsets, (o) => o <= offset)
  }

  /** The last entry before which every record is older than `t`, or -1. */
  lastOlderThan(t: number): number {
    return lastWhere(this.maxTimestampsBefore, (m) => m < t)
  }

  /** Serialises the index for `<base>.index` (see FORMAT.md). */
  encode(baseOffset: number): Buffer {
    const n = this.offsets.length
    const b = Buffer.alloc(INDEX_HEADER_BYTES + n * INDEX_ENTRY_BYTES)
    for (let i = 0; i < n; i++) {
      const p = INDEX_HEADER_BYTES + i * INDEX_ENTRY_BYTES
      b.writeUInt32LE(this.offsets[i] - baseOffset, p)
      b.writeUInt32LE(this.positions[i], p + 4)
      const ts = this.maxTimestampsBefore[i]
      const hi = Math.floor(ts / TWO_32)
      b.writeUInt32LE(ts - hi * TWO_32, p + 8)
      b.writeInt32LE(hi, p + 12)
    }
    b.writeUInt32LE(INDEX_MAGIC, 0)
    b.writeUInt16LE(1, 4)
    b.writeUInt16LE(INDEX_ENTRY_BYTES, 6)
    b.writeUInt32LE(baseOffset % TWO_32, 8)
    b.writeUInt32LE(Math.floor(baseOffset / TWO_32), 12)
    b.writeUInt32LE(n, 16)
    b.writeUInt32LE(crc32(b, INDEX_HEADER_BYTES, b.length), 20)
    return b
  }

  /**
   * Reads an index file, or says why it cannot be used (then the segment is scanned to rebuild it).
   * Entries must be inside the segment and strictly increasing.
   */
  static decode(b: Buffer, baseOffset: number, segmentBytes: number, interval: number): SparseIndex | string {
    if (b.length < INDEX_HEADER_BYTES) return 'cut short'
    if (b.readUInt32LE(0) !== INDEX_MAGIC || b.readUInt16LE(4) !== 1 || b.readUInt16LE(6) !== INDEX_ENTRY_BYTES) return 'bad header'
    if (b.readUInt32LE(8) + b.readUInt32LE(12) * TWO_32 !== baseOffset) return 'base offset differs from the segment'
    const n = b.readUInt32LE(16)
    if (b.length !== INDEX_HEADER_BYTES + n * INDEX_ENTRY_BYTES) return 'length does not match its entry count'
    if (crc32(b, INDEX_HEADER_BYTES, b.length) !== b.readUInt32LE(20)) return 'checksum mismatch'
    const ix = new SparseIndex(interval)
    let prevOffset = baseOffset
    let prevPos = 0
    let prevTs = -Infinity
    for (let i = 0; i < n; i++) {
      const p = INDEX_HEADER_BYTES + i * INDEX_ENTRY_BYTES
      const offset = baseOffset + b.readUInt32LE(p)
      const pos = b.readUInt32LE(p + 4)
      const ts = b.readUInt32LE(p + 8) + b.readInt32LE(p + 12) * TWO_32
      if (offset <= prevOffset || pos <= prevPos || pos >= segmentBytes || ts < prevTs) return `entry ${i} is out of order or outside the segment`
      ix.addEntry(offset, pos, ts)
      prevOffset = offset
      prevPos = pos
      prevTs = ts
    }
    return ix
  }
}

export const INDEX_MAGIC = 0x58494c53 // 'SLIX' read as a little-endian u32
export const INDEX_HEADER_BYTES = 24
export const INDEX_ENTRY_BYTES = 16
const TWO_32 = 4294967296

/** Index of the last element for which `ok` holds, given that it holds for a prefix of `a`; -1 if none. */
function lastWhere(a: readonly number[], ok: (v: number) => boolean): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ok(a[mid])) lo = mid + 1
    else hi = mid
  }
  return lo - 1
}
