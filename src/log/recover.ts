import { readdir, readFile, rm, stat } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { checkSegmentHeader, writeSegmentHeader, SEGMENT_HEADER_BYTES } from './frame.ts'
import { SparseIndex } from './index-file.ts'
import { MAX_FRAME_BYTES, Segment, scanFrames, segmentFileName } from './segment.ts'
import type { LogLogger } from './options.ts'
import { isNotFound } from './fs-util.ts'
import { expectedEnd, type PartitionMeta } from './partition-meta.ts'
import { findNextFrame } from './resync.ts'

export interface RecoverContext {
  /** 'topic/partition', for messages. */
  label: string
  /** The log folder and topic, for the repair command a refusal names. */
  logDir: string
  topic: string
  indexInterval: number
  logger: LogLogger
}

const SCAN_CHUNK = 1 << 20

/**
 * Opens the segments of a partition folder, checking them against its metadata (`meta`, when the
 * partition has it): a missing first, middle or last segment is an error. Sealed segments are trusted up
 * to a cheap check (their index, and a scan from its last entry to the end, which must meet the next
 * segment's base offset exactly); damage there is an error, since they were fsynced before the next one
 * began. The last segment is scanned whole: a torn tail (nothing valid after the first bad byte) is cut
 * at the last whole record, with one line to the logger; a bad record followed by valid ones is damage,
 * and an error that names the repair command.
 */
export async function recoverSegments(dir: string, ctx: RecoverContext, meta: PartitionMeta | undefined): Promise<Segment[]> {
  const names = await readdir(dir)
  let bases: number[] = []
  const indexes = new Set<number>()
  for (const n of names) {
    const m = /^(\d{20})\.(log|index)$/.exec(n)
    if (m === null) {
      if (n.endsWith('.tmp')) await rm(join(dir, n), { force: true })
      continue
    }
    if (m[2] === 'log') bases.push(Number(m[1]))
    else indexes.add(Number(m[1]))
  }
  bases.sort((a, b) => a - b)
  if (meta !== undefined) bases = await checkSegmentSet(dir, bases, meta, ctx)
  // An index without its segment is what a crash during retention leaves behind.
  for (const b of indexes) if (!bases.includes(b)) await rm(join(dir, segmentFileName(b, 'index')), { force: true })

  const segments: Segment[] = []
  try {
    for (let i = 0; i < bases.length; i++) {
      const seg = new Segment(dir, bases[i], ctx.indexInterval, true)
      segments.push(seg)
      const size = (await stat(seg.path)).size
      if (i < bases.length - 1) await openSealed(seg, size, bases[i + 1], expectedEnd(meta, bases[i + 1]), ctx)
      else await openTail(seg, size, ctx)
    }
  } catch (e) {
    for (const s of segments) await s.closeFile()
    throw e
  }
  return segments
}

/**
 * Compares the segment files with the partition's metadata. Segments below the start offset are what an
 * interrupted retention left (it records the new start first): they are deleted. A missing first or
 * last segment is an error.
 */
async function checkSegmentSet(dir: string, bases: number[], meta: PartitionMeta, ctx: RecoverContext): Promise<number[]> {
  const stale = bases.filter((b) => b < meta.startOffset)
  for (const b of stale) {
    await rm(join(dir, segmentFileName(b, 'log')), { force: true })
    await rm(join(dir, segmentFileName(b, 'index')), { force: true })
  }
  const kept = bases.filter((b) => b >= meta.startOffset)
  if (stale.length > 0 && (kept.length === 0 || kept[0] !== meta.startOffset)) throw missing(ctx, `the segment at the start offset ${meta.startOffset} is missing`)
  if (kept.length === 0) throw missing(ctx, `every segment file is missing (the partition had reached segment ${segmentFileName(meta.lastSegment, 'log')})`)
  if (kept[0] !== meta.startOffset) throw missing(ctx, `the segments from offset ${meta.startOffset} to ${kept[0]} are missing (the first file left is ${segmentFileName(kept[0], 'log')})`)
  const last = kept[kept.length - 1]
  if (last < meta.lastSegment) throw missing(ctx, `the last segments are missing: the newest file is ${segmentFileName(last, 'log')}, the partition had reached ${segmentFileName(meta.lastSegment, 'log')}`)
  return kept
}

async function openSealed(seg: Segment, size: number, nextBase: number, endAt: number, ctx: RecoverContext): Promise<void> {
  const fh = await seg.handle()
  const header = await readHeader(fh)
  const bad = checkSegmentHeader(header, seg.baseOffset)
  if (bad !== undefined) throw corrupt(ctx, seg, bad, 0)
  let index = await loadIndex(seg, size, ctx)
  let ok = index !== undefined && (await scanTail(seg, fh, size, index, endAt)).ok
  if (!ok) {
    index = new SparseIndex(ctx.indexInterval)
    const r = await scanTail(seg, fh, size, index, endAt)
    if (!r.ok) {
      if (r.stop !== 'end') throw corrupt(ctx, seg, `a damaged record (${why(r.stop)})`, r.pos)
      if (r.next < endAt) throw missing(ctx, `the records from offset ${r.next} to ${nextBase - 1} are missing: ${seg.name} ends at ${r.next}, the next segment starts at ${nextBase} (was a segment file deleted?)`)
      throw corrupt(ctx, seg, `its records run to offset ${r.next}, past the next segment's base offset ${nextBase}`, r.pos)
    }
    seg.index = index
    await seg.saveIndex()
    ctx.logger.warn(`log: rebuilt the index of ${ctx.label} segment ${seg.name}`)
  }
  seg.size = seg.projectedSize = seg.visibleSize = size
  seg.endOffset = endAt
  await seg.closeFile()
}

/**
 * Scans a sealed segment from its last index entry to the end, checking that offsets continue from the
 * entry and end right before `nextBase`. With an empty index this is a full scan that builds it.
 */
async function scanTail(seg: Segment, fh: FileHandle, size: number, index: SparseIndex, endAt: number) {
  const last = index.length - 1
  const r =
    last < 0
      ? await scanBuilding(fh, SEGMENT_HEADER_BYTES, size, seg.baseOffset, -Infinity, index)
      : await scanBuilding(fh, index.positions[last], size, index.offsets[last], index.maxTimestampsBefore[last], undefined)
  const ok = r.stop === 'end' && r.pos === size && r.next === endAt
  if (ok) seg.maxTimestamp = r.maxTs
  return { ok, ...r }
}

async function openTail(seg: Segment, size: number, ctx: RecoverContext): Promise<void> {
  const fh = await seg.handle()
  if (size < SEGMENT_HEADER_BYTES) {
    if (size > 0) ctx.logger.warn(`log: ${ctx.label} segment ${seg.name}: cut ${size} bytes (a torn segment header)`)
    await fh.truncate(0)
    await fh.write(writeSegmentHeader(seg.baseOffset), 0, SEGMENT_HEADER_BYTES, 0)
    await fh.datasync()
    return
  }
  const bad = checkSegmentHeader(await readHeader(fh), seg.baseOffset)
  if (bad !== undefined) throw corrupt(ctx, seg, bad, 0)
  const index = new SparseIndex(ctx.indexInterval)
  const r = await scanBuilding(fh, SEGMENT_HEADER_BYTES, size, seg.baseOffset, -Infinity, index)
  if (r.pos < size) {
    const valid = await findNextFrame(fh, r.pos + 1, size, r.next, MAX_FRAME_BYTES)
    if (valid !== undefined) {
      throw corrupt(ctx, seg, `a damaged record (${why(r.stop)}) with valid records after it (offset ${valid.offset} at byte ${valid.pos}), so it is not a torn write`, r.pos)
    }
    const after = r.next > seg.baseOffset ? `after offset ${r.next - 1}` : 'from the first record'
    ctx.logger.warn(`log: ${ctx.label} segment ${seg.name}: cut ${size - r.pos} bytes ${after} (${why(r.stop)})`)
    await fh.truncate(r.pos)
    await fh.datasync()
  }
  index.maxTimestamp = r.maxTs
  seg.index = index
  seg.size = seg.projectedSize = seg.visibleSize = r.pos
  seg.endOffset = r.next
  seg.maxTimestamp = r.maxTs
}

/**
 * Scans whole frames from `start`, which must carry offsets `expect`, `expect + 1`, ...; stops at the
 * first damaged or out-of-sequence one. Adds sparse entries to `index` when given (as the writer would).
 */
async function scanBuilding(fh: FileHandle, start: number, size: number, expect: number, maxTs: number, index: SparseIndex | undefined) {
  let pos = start
  let next = expect
  let ts = maxTs
  const r = await scanFrames(fh, start, size, SCAN_CHUNK, true, (f, _buf, _dv, p) => {
    if (f.offset !== next) return false
    const len = f.end - p
    if (index !== undefined) {
      if (index.bytesSinceEntry >= index.interval) {
        index.addEntry(f.offset, pos, ts)
        index.bytesSinceEntry = 0
      }
      index.bytesSinceEntry += len
    }
    pos += len
    next++
    if (f.timestamp > ts) ts = f.timestamp
    return true
  })
  return { pos, next, maxTs: ts, stop: r.stop }
}

async function loadIndex(seg: Segment, size: number, ctx: RecoverContext): Promise<SparseIndex | undefined> {
  let b: Buffer
  try {
    b = await readFile(seg.indexPath)
  } catch (e) {
    if (isNotFound(e)) return undefined
    throw e
  }
  const ix = SparseIndex.decode(b, seg.baseOffset, size, ctx.indexInterval)
  return typeof ix === 'string' ? undefined : ix
}

async function readHeader(fh: FileHandle): Promise<Buffer> {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES)
  const { bytesRead } = await fh.read(b, 0, SEGMENT_HEADER_BYTES, 0)
  return b.subarray(0, bytesRead)
}

function why(stop: string): string {
  return stop === 'partial' ? 'a partial record' : stop === 'bad-crc' ? 'a checksum mismatch' : stop === 'visitor' ? 'an out-of-sequence offset' : stop === 'bad-length' ? 'an impossible length' : 'a damaged record'
}

/** The command that repairs a topic of the log, for hints. */
export function repairCommand(ctx: RecoverContext): string {
  return `sluice log repair ${ctx.logDir} --topic ${ctx.topic}`
}

function corrupt(ctx: RecoverContext, seg: Segment, what: string, byte: number): SluiceError {
  return new SluiceError('SLUICE_LOG_CORRUPT', `log topic '${ctx.topic}' partition ${ctx.label.slice(ctx.topic.length + 1)}: segment file ${seg.name} is damaged at byte ${byte}: ${what}`, {
    domain: 'external',
    position: `${seg.name}@${byte}`,
    hint: `run '${repairCommand(ctx)}' to move the damaged bytes to a quarantine file and keep every valid record after them, or restore the file from a backup`,
  })
}

function missing(ctx: RecoverContext, what: string): SluiceError {
  return new SluiceError('SLUICE_LOG_CORRUPT', `log topic '${ctx.topic}' partition ${ctx.label.slice(ctx.topic.length + 1)}: ${what}`, {
    domain: 'external',
    hint: `restore the missing segment files from a backup; or run '${repairCommand(ctx)}' to accept the loss (the offsets stay used, never given again)`,
  })
}
