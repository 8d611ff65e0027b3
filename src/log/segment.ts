import { open, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { SparseIndex } from './index-file.ts'
import { readFrame, newFrameView, writeSegmentHeader, SEGMENT_HEADER_BYTES } from './frame.ts'
import type { FrameCheck, FrameView } from './frame.ts'
import { syncDir, writeFileDurable } from './fs-util.ts'

/** Largest frame a reader accepts; a longer length field can only be damage. */
export const MAX_FRAME_BYTES = 1 << 30

export function segmentFileName(baseOffset: number, ext: 'log' | 'index'): string {
  return `${String(baseOffset).padStart(20, '0')}.${ext}`
}

/**
 * One segment file of a partition and its sparse index. Sizes and offsets come in three stages:
 * `projected` (encoded, queued for writing), `size` (written to the file) and `visible` (readable:
 * written, and fsynced when the policy is 'always').
 */
export class Segment {
  readonly baseOffset: number
  readonly path: string
  readonly indexPath: string
  index: SparseIndex
  /** Whether the file exists on disk (a segment created by a roll exists only once the writer reaches it). */
  created: boolean
  size: number
  projectedSize: number
  visibleSize: number
  /** The offset after the last visible record. */
  endOffset: number
  /** Largest timestamp of the visible records (-Infinity when none). */
  maxTimestamp = -Infinity
  deleted = false
  private fh: FileHandle | undefined
  private opening: Promise<FileHandle> | undefined
  private reads = 0

  constructor(dir: string, baseOffset: number, indexInterval: number, created: boolean) {
    this.baseOffset = baseOffset
    this.path = join(dir, segmentFileName(baseOffset, 'log'))
    this.indexPath = join(dir, segmentFileName(baseOffset, 'index'))
    this.index = new SparseIndex(indexInterval)
    this.created = created
    this.size = this.projectedSize = this.visibleSize = SEGMENT_HEADER_BYTES
    this.endOffset = baseOffset
  }

  get name(): string {
    return segmentFileName(this.baseOffset, 'log')
  }

  /** The file, opened on first use and kept open until the segment is closed or deleted. */
  handle(): Promise<FileHandle> {
    if (this.fh !== undefined) return Promise.resolve(this.fh)
    this.opening ??= open(this.path, 'r+').then((fh) => (this.fh = fh))
    return this.opening
  }

  /** Creates the file with its header, durably (file and folder entry). */
  async create(dir: string): Promise<void> {
    const fh = await open(this.path, 'wx+')
    this.fh = fh
    await fh.write(writeSegmentHeader(this.baseOffset), 0, SEGMENT_HEADER_BYTES, 0)
    await fh.datasync()
    await syncDir(dir)
    this.created = true
  }

  /** Writes `bufs` at the end of the file in one writev (more only if the OS writes short). */
  async append(bufs: Buffer[], bytes: number): Promise<void> {
    const fh = await this.handle()
    let pos = this.size
    let written = (await fh.writev(bufs, pos)).bytesWritten
    while (written < bytes) {
      const rest = Buffer.concat(bufs).subarray(written)
      pos = this.size + written
      written += (await fh.write(rest, 0, rest.length, pos)).bytesWritten
    }
    this.size += bytes
  }

  async sync(): Promise<void> {
    if (this.fh !== undefined) await this.fh.datasync()
  }

  async saveIndex(): Promise<void> {
    await writeFileDurable(this.indexPath, this.index.encode(this.baseOffset))
  }

  /** Marks a read in progress, so that deleting the segment waits to close the file. */
  acquire(): boolean {
    if (this.deleted) return false
    this.reads++
    return true
  }

  release(): void {
    this.reads--
    if (this.deleted && this.reads === 0) void this.closeFile()
  }

  /** Deletes both files; the handle closes once the last read in progress ends. */
  async remove(): Promise<void> {
    this.deleted = true
    await rm(this.path, { force: true })
    await rm(this.indexPath, { force: true })
    if (this.reads === 0) await this.closeFile()
  }

  async closeFile(): Promise<void> {
    const fh = this.fh ?? (this.opening !== undefined ? await this.opening.catch(() => undefined) : undefined)
    this.fh = undefined
    this.opening = undefined
    if (fh !== undefined) await fh.close()
  }
}

export type ScanStop = FrameCheck | 'end' | 'visitor'

/**
 * Called for each whole, checksummed frame: `buf` holds it at `p`. Returning false stops the scan
 * after this frame.
 */
export type FrameVisitor = (f: FrameView, buf: Buffer, dv: DataView, p: number) => boolean

/**
 * Reads frames of a file from byte `pos` up to `limit` in chunks of about `chunkBytes` (one read per
 * chunk, never one per record) and hands each to `visit`. Returns where it stopped and why: 'end' at
 * `limit`, 'visitor', or the first damaged frame ('partial' = cut off by `limit`).
 */
export async function scanFrames(fh: FileHandle, pos: number, limit: number, chunkBytes: number, verify: boolean, visit: FrameVisitor): Promise<{ pos: number; stop: ScanStop }> {
  const f = newFrameView()
  let need = 0
  while (pos < limit) {
    const want = Math.min(limit - pos, Math.max(chunkBytes, need))
    const buf = Buffer.allocUnsafe(want)
    const n = await readFully(fh, buf, want, pos)
    if (n < want) limit = pos + n
    const dv = new DataView(buf.buffer, buf.byteOffset, n)
    let p = 0
    while (p < n) {
      const c = readFrame(buf, dv, p, n, MAX_FRAME_BYTES, verify, f)
      if (c === 'ok') {
        if (!visit(f, buf, dv, p)) return { pos: pos + f.end, stop: 'visitor' }
        p = f.end
        continue
      }
      if (c === 'partial') {
        if (pos + f.end > limit) return { pos: pos + p, stop: 'partial' }
        need = p === 0 ? f.end : 0
        break
      }
      return { pos: pos + p, stop: c }
    }
    pos += p
  }
  return { pos, stop: 'end' }
}

async function readFully(fh: FileHandle, buf: Buffer, want: number, pos: number): Promise<number> {
  let n = 0
  while (n < want) {
    const { bytesRead } = await fh.read(buf, n, want - n, pos + n)
    if (bytesRead === 0) break
    n += bytesRead
  }
  return n
}

