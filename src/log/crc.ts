import { crc32 as zlibCrc32 } from 'node:zlib'

/**
 * CRC-32 (IEEE 802.3, the zlib polynomial) of `buf[start, end)`. Short ranges, the common case for one
 * record, use a slicing-by-8 table in JavaScript: it needs no subarray and no native call, and is about
 * twice as fast as zlib for 100-byte records. Long ranges go to zlib, which is faster there. Both give
 * the same value (checked in crc.test.ts).
 */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  if (end - start >= NATIVE_FROM) return zlibCrc32(buf.subarray(start, end)) >>> 0
  let c = -1
  let i = start
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24))
    c =
      T[1792 + (a & 0xff)] ^
      T[1536 + ((a >>> 8) & 0xff)] ^
      T[1280 + ((a >>> 16) & 0xff)] ^
      T[1024 + (a >>> 24)] ^
      T[768 + buf[i + 4]] ^
      T[512 + buf[i + 5]] ^
      T[256 + buf[i + 6]] ^
      T[buf[i + 7]]
  }
  for (; i < end; i++) c = T[(c ^ buf[i]) & 0xff] ^ (c >>> 8)
  return ~c >>> 0
}

/** Above this many bytes the native implementation wins despite its call overhead. */
const NATIVE_FROM = 512

const T = buildTable(0xedb88320)

function buildTable(poly: number): Int32Array {
  const t = new Int32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]
    for (let s = 1; s < 8; s++) {
      c = t[c & 0xff] ^ (c >>> 8)
      t[s * 256 + n] = c
    }
  }
  return t
}
