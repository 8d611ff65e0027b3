import { globSync } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Position } from '../../core/batch.ts'
import { parseDuration, type Duration } from '../../core/duration.ts'
import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import { END, type SourceContext, type SourceOptions, type SourceRead, type SourceReader } from '../../core/source.ts'
import { DEFAULT_CHUNK_SIZE, LineReader, endOfLastLine, type QuoteRule } from './line-reader.ts'
import { settleProblems } from './line-problems.ts'
import { checkCompression, compressionOf, DecompressedFile, type Compression, type ReadableFile } from './decompress.ts'

/**
 * Where a file source stands in one file: resume there with `resumeFrom`.
 * @example source.jsonl('in/clicks.jsonl', { resumeFrom: { 'in/clicks.jsonl': { offset: 52_431, line: 1_000 } } })
 */
export interface FilePosition {
  file: string
  /** Byte offset of the next unread record. */
  offset: number
  /** Lines before `offset`. */
  line: number
}

/**
 * Options shared by the file sources.
 * @example source.jsonl('logs/app.jsonl', { follow: true, pollInterval: '1s', startAt: 'end' }) // tail a growing file
 */
export interface FileSourceOptions<T> extends SourceOptions<T> {
  /**
   * Tail the files: after the end, keep polling for appended lines (the source is unbounded). A last
   * line without its line break is held until it is complete.
   */
  follow?: boolean
  /** How often a followed file is polled for new data. Default '200ms'. */
  pollInterval?: Duration
  /** With `follow`, start at the files' current end instead of their beginning. Default 'beginning'. */
  startAt?: 'beginning' | 'end'
  /** Positions to start at, by file path as the source names it (see `FileSourceReader.position`). */
  resumeFrom?: Record<string, { offset: number; line: number }>
  /** Bytes per file read. Default 1 MiB. */
  chunkSize?: number
  /**
   * Longest record in bytes (default 16 MiB). A longer line is an error for that line (its first
   * `maxRecordBytes` bytes go to the error policy as its raw payload), and reading goes on at the next line.
   */
  maxRecordBytes?: number
  /**
   * A line whose bytes are not valid UTF-8: 'error' (default) sends it to the error policy with its exact
   * bytes; 'replace' decodes it with U+FFFD for each bad sequence; 'latin1' decodes it one byte per
   * character (U+0000-U+00FF), so `Buffer.from(text, 'latin1')` gives the bytes back.
   */
  invalidUtf8?: 'error' | 'replace' | 'latin1'
  /**
   * How the files are compressed: 'auto' (default) by extension (`.gz` gzip, `.zst` zstd), or 'gzip', 'zstd',
   * 'none' for all of them. A compressed file is decompressed as it is read (never whole); positions are offsets
   * in its decompressed bytes, and a restore decompresses it again from the start up to the position.
   */
  compression?: Compression
}

/** A file source's reader: one partition per file, and where it stands in each. */
export interface FileSourceReader<T> extends SourceReader<T> {
  readonly files: readonly string[]
  position(partition: number): FilePosition
  positions(): FilePosition[]
  seek(positions: unknown[]): void
}

/** Turns a file's records (text and starting line) into values; reports bad ones through `ctx.malformed`. */
export interface RecordDecoder<T> {
  /**
   * Reads what the decoder needs before the records (a CSV header) and returns where the records
   * start; undefined while the file holds none. `final`: the file is complete (not followed).
   */
  prepare?(file: FileInput, final: boolean): Promise<{ offset: number; line: number } | undefined>
  decode(texts: string[], lines: number[], file: string, values: T[], pos: Position[]): void
  /** Drops what `prepare` learned about a file (it was truncated and starts over). */
  forget?(file: string): void
}

/** What a decoder may read ahead of the records. */
export interface FileInput {
  readonly path: string
  readonly handle: ReadableFile
  readonly sizeHint: number
  readonly chunkSize: number
}

export interface FileSourceSpec<T> {
  kind: string
  quoteRule?: QuoteRule
  decoder(ctx: SourceContext): RecordDecoder<T>
}

const GLOB_CHARS = /[*?[\]{}]/

/** Checks the path argument's shape (files are looked up when the pipeline starts). */
export function checkPaths(kind: string, path: string | readonly string[]): readonly string[] {
  const patterns = typeof path === 'string' ? [path] : path
  if (!Array.isArray(patterns) || patterns.length === 0 || patterns.some((p) => typeof p !== 'string' || p === '')) {
    throw userError('SLUICE_BAD_ARGUMENT', `source.${kind} needs a file path, a glob pattern, or a non-empty array of them`)
  }
  return patterns
}

/** Expands the path argument: paths as given, glob patterns to their sorted matches. */
export function resolveFiles(kind: string, path: string | readonly string[]): string[] {
  const patterns = checkPaths(kind, path)
  const files: string[] = []
  const seen = new Set<string>()
  for (const pattern of patterns) {
    const matches = GLOB_CHARS.test(pattern) ? globSync(pattern).sort() : [pattern]
    if (matches.length === 0) {
      throw userError('SLUICE_NO_FILES', `source.${kind}: no file matches '${pattern}'`, { hint: 'check the pattern and the working folder; patterns are resolved when the pipeline starts' })
    }
    for (const f of matches) {
      if (!seen.has(f)) {
        seen.add(f)
        files.push(f)
      }
    }
  }
  return files
}

/** Validates the shared options; returns the poll interval in ms. */
export function checkFileOptions<T>(kind: string, options: FileSourceOptions<T>): number {
  const pollMs = parseDuration(options.pollInterval ?? '200ms', `source.${kind} pollInterval`, { allowZero: false })
  if (options.startAt !== undefined && options.startAt !== 'beginning' && options.startAt !== 'end') {
    throw userError('SLUICE_BAD_OPTION', `source.${kind}: startAt must be 'beginning' or 'end', got '${String(options.startAt)}'`)
  }
  if (options.startAt === 'end' && !options.follow) {
    throw userError('SLUICE_BAD_OPTION', `source.${kind}: startAt 'end' needs follow: true`, { hint: 'without follow the source would read nothing' })
  }
  if (options.chunkSize !== undefined && (!Number.isInteger(options.chunkSize) || options.chunkSize < 1)) {
    throw userError('SLUICE_BAD_OPTION', `source.${kind}: chunkSize must be a positive integer, got ${options.chunkSize}`)
  }
  if (options.maxRecordBytes !== undefined && (!Number.isSafeInteger(options.maxRecordBytes) || options.maxRecordBytes < 1)) {
    throw userError('SLUICE_BAD_OPTION', `source.${kind}: maxRecordBytes must be a positive integer, got ${String(options.maxRecordBytes)}`)
  }
  if (options.invalidUtf8 !== undefined && !['error', 'replace', 'latin1'].includes(options.invalidUtf8)) {
    throw userError('SLUICE_BAD_OPTION', `source.${kind}: invalidUtf8 must be 'error', 'replace' or 'latin1', got '${String(options.invalidUtf8)}'`)
  }
  checkCompression(kind, options.compression, options.follow === true)
  for (const [file, at] of Object.entries(options.resumeFrom ?? {})) {
    if (!Number.isSafeInteger(at?.offset) || at.offset < 0 || !Number.isSafeInteger(at.line) || at.line < 0) {
      throw userError('SLUICE_BAD_OPTION', `source.${kind}: resumeFrom['${file}'] needs non-negative integer offset and line`)
    }
  }
  return pollMs
}

function fileError(e: unknown, file: string, step: string, doing: string): SluiceError {
  if (e instanceof SluiceError) return e
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOENT') {
    return userError('SLUICE_FILE_NOT_FOUND', `file '${file}' does not exist`, { step, position: file, hint: 'check the path and the working folder' })
  }
  if (code === 'EISDIR') return userError('SLUICE_FILE_UNREADABLE', `'${file}' is a folder, not a file`, { step, position: file, hint: "use a glob pattern such as 'folder/*.jsonl'" })
  return new SluiceError('SLUICE_FILE_READ_FAILED', `cannot ${doing} '${file}': ${code ?? errorMessage(e)}`, {
    domain: 'external',
    retryable: code !== 'EACCES' && code !== 'EPERM',
    step,
    position: file,
    cause: e,
  })
}

interface Partition {
  file: string
  reader: LineReader | undefined
  handle: ReadableFile | undefined
  compression: 'none' | 'gzip' | 'zstd'
  ended: boolean
  /** Position before the file is opened (or after it ended). */
  offset: number
  line: number
  inflight: Promise<unknown> | undefined
}

function checkFilePositions(kind: string, positions: unknown, step: string): FilePosition[] {
  const ok = (at: unknown): at is FilePosition => {
    const a = at as FilePosition | null
    return typeof a === 'object' && a !== null && typeof a.file === 'string' && Number.isSafeInteger(a.offset) && a.offset >= 0 && Number.isSafeInteger(a.line) && a.line >= 0
  }
  if (!Array.isArray(positions) || !positions.every(ok)) {
    throw userError('SLUICE_BAD_POSITION', `source.${kind}: checkpoint positions must be a list of { file, offset, line }`, { step })
  }
  return positions
}

/**
 * Opens a file source: resolves the files, checks them, and reads each as one partition. Positions
 * (`positions`/`seek`) are `{ file, offset, line }` per partition and are matched to files by path, so a
 * glob that matches more files on restart reads the new ones from their start.
 */
export async function openFileSource<T>(spec: FileSourceSpec<T>, path: string | readonly string[], options: FileSourceOptions<T>, pollMs: number, ctx: SourceContext): Promise<FileSourceReader<T>> {
  const step = ctx.stepId
  let files: string[]
  try {
    files = resolveFiles(spec.kind, path)
  } catch (e) {
    throw e instanceof SluiceError ? new SluiceError(e.code, e.message, { domain: e.domain, step, hint: e.hint }) : e
  }
  const sizes = await Promise.all(
    files.map(async (file) => {
      try {
        const st = await stat(file)
        if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' })
        return st.size
      } catch (e) {
        throw fileError(e, file, step, 'read')
      }
    }),
  )
  const follow = options.follow === true
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  const decoder = spec.decoder(ctx)
  const closing = new AbortController()
  const stop = AbortSignal.any([ctx.signal, closing.signal])
  let closed = false
  /** Bytes of records read in this run, for the step's bytesIn metric. */
  let consumed = 0
  const parts: Partition[] = files.map((file) => {
    const at = options.resumeFrom?.[file]
    return { file, reader: undefined, handle: undefined, compression: compressionOf(file, options.compression), ended: false, offset: at?.offset ?? 0, line: at?.line ?? 0, inflight: undefined }
  })
  const tailed = follow ? parts.find((p) => p.compression !== 'none') : undefined
  if (tailed !== undefined) {
    throw userError('SLUICE_BAD_OPTION', `source.${spec.kind}: '${tailed.file}' is compressed and cannot be followed`, { step, hint: "leave follow out, or set compression: 'none' if the file is not compressed" })
  }

  // Files tailed from their end start where they end now, when the pipeline starts.
  if (options.startAt === 'end') {
    await Promise.all(
      parts.map(async (p) => {
        if (options.resumeFrom?.[p.file] !== undefined) return
        try {
          p.handle = await open(p.file, 'r')
          const at = await endOfLastLine(p.handle, chunkSize)
          p.offset = at.offset
          p.line = at.line
        } catch (e) {
          await Promise.allSettled(parts.map((q) => q.handle?.close()))
          throw fileError(e, p.file, step, 'read')
        }
      }),
    )
  }

  /** Opens the file and places a reader; false while the file holds no records yet (no CSV header). */
  async function start(p: Partition, index: number): Promise<boolean> {
    try {
      if (p.handle === undefined) {
        try {
          const fh = await open(p.file, 'r')
          p.handle = p.compression === 'none' ? fh : new DecompressedFile(p.file, p.compression, fh)
        } catch (e) {
          throw fileError(e, p.file, step, 'open')
        }
      }
      const handle = p.handle
      if (decoder.prepare !== undefined) {
        const first = await decoder.prepare({ path: p.file, handle, sizeHint: sizes[index], chunkSize }, !follow)
        if (first === undefined) return false
        // A resumed or tailed file may already be past the header.
        if (first.offset > p.offset) {
          p.offset = first.offset
          p.line = first.line
        }
      }
      // The size of a compressed file says nothing of its decompressed length.
      const sizeHint = p.compression === 'none' ? sizes[index] : undefined
      p.reader = new LineReader(handle, { offset: p.offset, line: p.line, chunkSize, sizeHint, quoteRule: spec.quoteRule, maxRecordBytes: options.maxRecordBytes })
      return true
    } catch (e) {
      throw fileError(e, p.file, step, 'read')
    }
  }

  async function finish(p: Partition): Promise<void> {
    if (p.reader !== undefined) {
      p.offset = p.reader.offset
      p.line = p.reader.line
      p.reader = undefined
    }
    p.ended = true
    const h = p.handle
    p.handle = undefined
    await h?.close()
  }

  /** Waits one poll interval; false if the job stopped or the source closed meanwhile. */
  async function pause(): Promise<boolean> {
    if (stop.aborted) return false
    try {
      await sleep(Math.min(pollMs, ctx.bufferTimeoutMs ?? Infinity), undefined, { signal: stop })
      return true
    } catch {
      return false
    }
  }

  async function readPart(p: Partition, index: number, max: number): Promise<SourceRead<T>> {
    if (p.reader === undefined && !(await start(p, index))) {
      if (!follow) {
        await finish(p)
        return END
      }
      await pause()
      return null
    }
    const reader = p.reader!
    let waited = false
    for (;;) {
      if (closed) return null
      let got
      const before = reader.offset
      try {
        got = await reader.read(max, !follow)
      } catch (e) {
        throw fileError(e, p.file, step, 'read')
      }
      if (reader.offset > before) consumed += reader.offset - before
      if (got.texts.length > 0) {
        const values: T[] = []
        const pos: Position[] = []
        if (got.problems !== undefined) settleProblems(got, p.file, options, ctx)
        decoder.decode(got.texts, got.lines, p.file, values, pos)
        return { values, times: [], pos }
      }
      if (!follow) {
        await finish(p)
        return END
      }
      if (await truncated(p, reader)) return null
      if (waited || !(await pause())) return null
      waited = true
    }
  }

  /** A followed file cut shorter than what was read (copy-and-truncate rotation) is read again from its start. */
  async function truncated(p: Partition, reader: LineReader): Promise<boolean> {
    let size: number
    try {
      size = (await p.handle!.stat()).size
    } catch (e) {
      throw fileError(e, p.file, step, 'read')
    }
    if (size >= reader.readOffset) return false
    p.reader = undefined
    p.offset = 0
    p.line = 0
    decoder.forget?.(p.file)
    return true
  }

  /** How far a file is read, in bytes of the file itself (a compressed file's decompressed offsets are larger). */
  function fileBytesRead(index: number): number {
    const p = parts[index]
    if (p.ended) return sizes[index]
    if (p.compression === 'none') return Math.min(position(index).offset, sizes[index])
    return p.handle instanceof DecompressedFile ? Math.min(p.handle.compressedOffset, sizes[index]) : 0
  }

  function position(index: number): FilePosition {
    const p = parts[index]
    if (p === undefined) throw new SluiceError('SLUICE_INTERNAL', `source '${step}' has no partition ${index}`, { domain: 'internal', step })
    return p.reader !== undefined ? { file: p.file, offset: p.reader.offset, line: p.reader.line } : { file: p.file, offset: p.offset, line: p.line }
  }

  return {
    partitions: files.length,
    files,
    read(index, max) {
      const p = parts[index]
      if (p === undefined) throw new SluiceError('SLUICE_INTERNAL', `source '${step}' has no partition ${index}`, { domain: 'internal', step })
      if (closed || p.ended) return END
      const r = readPart(p, index, max)
      p.inflight = r.then(
        () => (p.inflight = undefined),
        () => (p.inflight = undefined),
      )
      return r
    },
    position,
    positions: () => parts.map((_, i) => position(i)),
    bytesRead: () => consumed,
    // A followed file grows, so it has no end to measure against.
    ...(follow ? {} : { progress: (index: number) => ({ done: fileBytesRead(index), total: sizes[index] }) }),
    // Bytes left of a file read once (a followed file grows: its size is not known without a stat).
    ...(follow ? {} : { lagUnit: 'bytes' as const, lag: (index: number) => sizes[index] - fileBytesRead(index) }),
    seek(positions) {
      for (const at of checkFilePositions(spec.kind, positions, step)) {
        const index = files.indexOf(at.file)
        // A file the checkpoint knew that the paths no longer match was dealt with; one it did not know starts at 0.
        if (index < 0) continue
        const p = parts[index]
        if (at.offset > sizes[index] && p.compression === 'none') {
          if (!follow) {
            throw userError('SLUICE_BAD_POSITION', `source.${spec.kind}: '${at.file}' is shorter (${sizes[index]} bytes) than the checkpoint's position (${at.offset}); it was replaced or truncated`, {
              step,
              position: at.file,
              hint: 'restore from a checkpoint taken on the same files, or start without restoring',
            })
          }
          // A tailed file cut shorter (copy-and-truncate rotation) is read again from its start, as while running.
          p.offset = 0
          p.line = 0
          continue
        }
        p.offset = at.offset
        p.line = at.line
      }
    },
    async close() {
      if (closed) return
      closed = true
      closing.abort()
      await Promise.allSettled(parts.map((p) => p.inflight))
      await Promise.allSettled(parts.map((p) => finish(p)))
    },
  }
}
