import { readdir, readFile, rm, stat } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { checkSegmentHeader, writeSegmentHeader, SEGMENT_HEADER_BYTES } from './frame.ts'
import { SparseIndex } from './index-file.ts'
import { Segment, scanFrames } from './segment.ts'
import type { LogLogger } from './options.ts'
import { isNotFound } from './fs-util.ts'

export interface RecoverContext {
  /** 'topic/partition', for messages. */
  label: string
  indexInterval: number
  logger: LogLogger
}

const SCAN_CHUNK = 1 << 20

/**
 * Opens the segments of a partition folder. Sealed segments are trusted up to a cheap check (their index,
 * and a scan from its last entry to the end, which must meet the next segment's base offset exactly);
 * damage there is an error, since they were fsynced before the next one began. The last segment is
 * scanned whole: a torn or corrupt tail is cut at the last whole record, with one line to the logger.
 */
export async function recoverSegments(dir: string, ctx: RecoverContext): Promise<Segment[]> {
  const names = await readdir(dir)
  const bases: number[] = []
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
  // An index without its segment is what a crash during retention leaves behind.
  for (const b of indexes) if (!bases.includes(b)) await rm(join(dir, `${String(b).padStart(20, '0')}.index`), { force: true })

  const segments: Segment[] = []
  try {
    for (let i = 0; i < bases.length; i++) {
      const seg = new Segment(dir, bases[i], ctx.indexInterval, true)
      segments.push(seg)
      const size = (await stat(seg.path)).size
      if (i < bases.length - 1) await openSealed(seg, size, bases[i + 1], ctx)
      else await openTail(seg, size, ctx)
    }
  } catch (e) {
    for (const s of segments) await s.closeFile()
    throw e
  }
  return segments
}

async function openSealed(seg: Segment, size: number, nextBase: number, ctx: RecoverContext): Promise<void> {
  const fh = await seg.handle()
  const header = await readHeader(fh)
  const bad = checkSegmentHeader(header, seg.baseOffset)
  if (bad !== undefined) throw corrupt(ctx, seg, bad)
  let index = await loadIndex(seg, size, ctx)
  let ok = index !== undefined && (await scanTail(seg, fh, size, index, nextBase))
  if (!ok) {
    index = new SparseIndex(ctx.indexInterval)
    ok = await scanTail(seg, fh, size, index, nextBase)
    if (!ok) throw corrupt(ctx, seg, `its records do not run whole from offset ${seg.baseOffset} to ${nextBase}`)
    seg.index = index
    await seg.saveIndex()
    ctx.logger.warn(`log: rebuilt the index of ${ctx.label} segment ${seg.name}`)
  }
  seg.size = seg.projectedSize = seg.visibleSize = size
  seg.endOffset = nextBase
  await seg.closeFile()
}

/**
 * Scans a sealed segment from its last index entry to the end, checking that offsets continue from the
 * entry and end right before `nextBase`. With an empty index this is a full scan that builds it.
 */
async function scanTail(seg: Segment, fh: FileHandle, size: number, index: SparseIndex, nextBase: number): Promise<boolean> {
  const last = index.length - 1
  const r =
    last < 0
      ? await scanBuilding(fh, SEGMENT_HEADER_BYTES, size, seg.baseOffset, -Infinity, index)
      : await scanBuilding(fh, index.positions[last], size, index.offsets[last], index.maxTimestampsBefore[last], undefined)
  if (r.stop !== 'end' || r.pos !== size || r.next !== nextBase) return false
  seg.maxTimestamp = r.maxTs
  return true
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
  if (bad !== undefined) throw corrupt(ctx, seg, bad)
  const index = new SparseIndex(ctx.indexInterval)
  const r = await scanBuilding(fh, SEGMENT_HEADER_BYTES, size, seg.baseOffset, -Infinity, index)
  if (r.pos < size) {
    const why = r.stop === 'partial' ? 'a partial record' : r.stop === 'bad-crc' ? 'a checksum mismatch' : r.stop === 'visitor' ? 'an out-of-sequence offset' : 'a damaged record'
    const after = r.next > seg.baseOffset ? `after offset ${r.next - 1}` : 'from the first record'
    ctx.logger.warn(`log: ${ctx.label} segment ${seg.name}: cut ${size - r.pos} bytes ${after} (${why})`)
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

function corrupt(ctx: RecoverContext, seg: Segment, what: string): SluiceError {
  return new SluiceError('SLUICE_LOG_CORRUPT', `log ${ctx.label}: segment ${seg.name} is damaged: ${what}`, {
    domain: 'external',
    position: seg.baseOffset,
    hint: 'only the last segment of a partition is repaired automatically; restore this segment from a backup, or move it and every later segment of the partition away to lose their records',
  })
}

