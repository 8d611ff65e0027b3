import { createReadStream } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import * as zlib from 'node:zlib'
import { userError } from '../../core/errors.ts'

/** What the line reader needs of an open file: positional reads, its size, and closing. A FileHandle is one. */
export interface ReadableFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>
  stat(): Promise<{ size: number }>
  close(): Promise<void>
}

/** How a file source's input is compressed. 'auto' (default) goes by the extension: `.gz`, `.zst`. */
export type Compression = 'auto' | 'none' | 'gzip' | 'zstd'

const COMPRESSIONS: readonly Compression[] = ['auto', 'none', 'gzip', 'zstd']

/** The compression of `file` under the option `compression`. */
export function compressionOf(file: string, compression: Compression = 'auto'): 'none' | 'gzip' | 'zstd' {
  if (compression !== 'auto') return compression
  if (/\.gz$|\.gzip$/i.test(file)) return 'gzip'
  if (/\.zst$|\.zstd$/i.test(file)) return 'zstd'
  return 'none'
}

/** Checks the `compression` option; zstd needs a Node.js whose zlib has it (22.15 and 23.8 on). */
export function checkCompression(kind: string, compression: unknown, follow: boolean): void {
  if (compression === undefined) return
  if (!COMPRESSIONS.includes(compression as Compression)) throw userError('SLUICE_BAD_OPTION', `source.${kind}: compression must be 'auto', 'none', 'gzip' or 'zstd', got '${String(compression)}'`)
  if (follow && compression !== 'none' && compression !== 'auto') throw userError('SLUICE_BAD_OPTION', `source.${kind}: compressed files cannot be followed`, { hint: 'leave follow out: a compressed file is read once, whole' })
}

/**
 * A compressed file read as its decompressed bytes, streaming: reads go forward through one decompression
 * stream; a read before the current position (a restore, a CSV header read again) starts the stream over and
 * skips to it. Offsets are in decompressed bytes; `compressedOffset` is how far the file itself was read.
 */
export class DecompressedFile implements ReadableFile {
  private readonly path: string
  private readonly format: 'gzip' | 'zstd'
  private readonly handle: FileHandle
  private stream: Readable | undefined
  private chunks: AsyncIterator<Buffer> | undefined
  private pending: Buffer | undefined
  /** Decompressed offset of the first byte of `pending` (or of the next chunk). */
  private pos = 0
  private raw: Readable | undefined

  constructor(path: string, format: 'gzip' | 'zstd', handle: FileHandle) {
    this.path = path
    this.format = format
    this.handle = handle
  }

  /** Bytes of the compressed file read so far (for progress). */
  get compressedOffset(): number {
    return (this.raw as { bytesRead?: number } | undefined)?.bytesRead ?? 0
  }

  private restart(): void {
    this.stream?.destroy()
    const raw = createReadStream(this.path, { highWaterMark: 1 << 20 })
    this.raw = raw
    const inflate = this.format === 'gzip' ? zlib.createGunzip() : zstdDecompress(this.path)
    raw.on('error', (e) => inflate.destroy(e))
    this.stream = raw.pipe(inflate)
    this.chunks = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    this.pending = undefined
    this.pos = 0
  }

  private async next(): Promise<Buffer | undefined> {
    if (this.pending !== undefined && this.pending.byteLength > 0) {
      const p = this.pending
      this.pending = undefined
      return p
    }
    try {
      const r = await this.chunks!.next()
      return r.done === true ? undefined : r.value
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (typeof code === 'string' && (code.startsWith('Z_') || /zstd/i.test(code))) {
        throw userError('SLUICE_FILE_UNREADABLE', `'${this.path}' is not valid ${this.format} data (${code})`, { position: this.path, cause: e, hint: `check the file, or set compression: 'none' if it is not compressed` })
      }
      throw e
    }
  }

  async read(buffer: Buffer, off: number, len: number, at: number): Promise<{ bytesRead: number }> {
    if (this.chunks === undefined || at < this.pos) this.restart()
    while (this.pos < at) {
      const chunk = await this.next()
      if (chunk === undefined) return { bytesRead: 0 }
      const skip = Math.min(chunk.byteLength, at - this.pos)
      this.pos += skip
      if (skip < chunk.byteLength) this.pending = chunk.subarray(skip)
    }
    const chunk = await this.next()
    if (chunk === undefined) return { bytesRead: 0 }
    const n = Math.min(len, chunk.byteLength)
    chunk.copy(buffer, off, 0, n)
    if (n < chunk.byteLength) this.pending = chunk.subarray(n)
    this.pos += n
    return { bytesRead: n }
  }

  stat(): Promise<{ size: number }> {
    return this.handle.stat()
  }

  async close(): Promise<void> {
    this.stream?.destroy()
    this.raw?.destroy()
    await this.handle.close()
  }
}

function zstdDecompress(path: string): zlib.ZstdDecompress {
  if (typeof zlib.createZstdDecompress !== 'function') {
    throw userError('SLUICE_FILE_UNREADABLE', `'${path}' is zstd-compressed and this Node.js has no zstd in zlib`, { position: path, hint: 'run on Node.js 22.15 or later, or decompress the file first' })
  }
  return zlib.createZstdDecompress()
}
