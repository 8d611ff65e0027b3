import type { FileHandle } from 'node:fs/promises'
import { BODY_FIXED_BYTES, FRAME_HEAD_BYTES, newFrameView, readFrame } from './frame.ts'

const WINDOW = 1 << 20
const MIN_FRAME = FRAME_HEAD_BYTES + BODY_FIXED_BYTES
const TWO_32 = 4294967296

/**
 * Looks for the first whole, checksummed frame at or after byte `from` whose offset could follow a
 * damaged range that began with offset `minOffset` (each lost record took at least a minimal frame).
 * This is what tells damage from a torn tail: a torn write leaves nothing valid after it.
 */
export async function findNextFrame(fh: FileHandle, from: number, size: number, minOffset: number, maxFrameBytes: number): Promise<{ pos: number; offset: number } | undefined> {
  const f = newFrameView()
  let pos = from
  while (size - pos >= MIN_FRAME) {
    const n = Math.min(WINDOW, size - pos)
    const buf = Buffer.allocUnsafe(n)
    const got = await readAt(fh, buf, n, pos)
    const dv = new DataView(buf.buffer, buf.byteOffset, got)
    for (let i = 0; i + MIN_FRAME <= got; i++) {
      const len = dv.getUint32(i, true)
      if (len < BODY_FIXED_BYTES || len + FRAME_HEAD_BYTES > size - (pos + i) || len + FRAME_HEAD_BYTES > maxFrameBytes) continue
      const off = dv.getUint32(i + FRAME_HEAD_BYTES, true) + dv.getUint32(i + FRAME_HEAD_BYTES + 4, true) * TWO_32
      if (off < minOffset || off > minOffset + Math.floor((pos + i - from) / MIN_FRAME) + 1) continue
      let fb = buf
      let fp = i
      let limit = got
      if (i + FRAME_HEAD_BYTES + len > got) {
        fb = Buffer.allocUnsafe(len + FRAME_HEAD_BYTES)
        limit = await readAt(fh, fb, fb.length, pos + i)
        fp = 0
      }
      const fdv = fb === buf ? dv : new DataView(fb.buffer, fb.byteOffset, limit)
      if (readFrame(fb, fdv, fp, limit, maxFrameBytes, true, f) === 'ok' && f.offset === off) return { pos: pos + i, offset: off }
    }
    if (got < WINDOW) break
    pos += got - MIN_FRAME + 1
  }
  return undefined
}

async function readAt(fh: FileHandle, buf: Buffer, want: number, pos: number): Promise<number> {
  let n = 0
  while (n < want) {
    const { bytesRead } = await fh.read(buf, n, want - n, pos + n)
    if (bytesRead === 0) break
    n += bytesRead
  }
  return n
}
