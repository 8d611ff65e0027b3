import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { checkSegmentHeader, writeSegmentHeader, SEGMENT_HEADER_BYTES } from './frame.ts'
import { isNotFound, syncDir } from './fs-util.ts'
import { lockDir } from './lock.ts'
import { newMeta, readMeta, writeMeta, type PartitionMeta } from './partition-meta.ts'
import { findNextFrame } from './resync.ts'
import { MAX_FRAME_BYTES, scanFrames, segmentFileName } from './segment.ts'
import { checkTopicName, partitionFolders, writeTopicConfig } from './topic.ts'
import { resolveLogOptions } from './options.ts'

/** One thing `repairLog` did to a partition. */
export interface RepairAction {
  topic: string
  partition: number
  /**
   * 'damaged': bad bytes with valid records after them; 'torn': bad bytes at the end of a segment;
   * 'header': a bad segment header rewritten; 'missing': segment files gone; 'meta': an unreadable
   * partition.json (or topic.json, then `partition` is -1) written again from what is on disk.
   */
  kind: 'damaged' | 'torn' | 'header' | 'missing' | 'meta'
  segment: string
  /** Byte range moved out of the segment (absent for 'missing'). */
  fromByte?: number
  toByte?: number
  /** Offsets taken out of the partition: `[lostFrom, lostTo)`, empty for a torn tail or a header. */
  lostFrom: number
  lostTo: number
  /** The quarantine file holding the bytes, relative to the log folder. */
  quarantine?: string
}

/**
 * Repairs the partitions of a log folder (all topics, or `topic`) that `openLog` refuses: damaged
 * bytes in any segment are moved to a quarantine file (`<partition>/quarantine/`, never deleted) and
 * every valid record after them is kept, in a new segment that starts at its own offset; missing segment
 * files become a recorded gap. The offsets of what was lost stay used (never given again), and each gap
 * is listed in the partition's `partition.json`. Running it again after a crash in the middle is safe.
 * @example const actions = await repairLog('data/log', { topic: 'clicks.dlq' })
 */
export async function repairLog(dir: string, opts: { topic?: string } = {}): Promise<RepairAction[]> {
  const unlock = await lockDir(dir)
  try {
    const topics = opts.topic !== undefined ? [checkTopicName(opts.topic)] : (await readdir(join(dir, 'topics')).catch(() => [] as string[])).sort()
    const actions: RepairAction[] = []
    for (const topic of topics) {
      const tdir = join(dir, 'topics', topic)
      let partitions: number
      try {
        partitions = (JSON.parse(await readFile(join(tdir, 'topic.json'), 'utf8')) as { partitions: number }).partitions
        if (!Number.isSafeInteger(partitions) || partitions < 1) throw new Error('bad partitions')
      } catch {
        // Written again from what is on disk: the partitions are the folders, other settings the defaults.
        partitions = await partitionFolders(tdir)
        if (partitions === 0) {
          if (opts.topic === undefined) continue
          throw new SluiceError('SLUICE_LOG_NO_TOPIC', `log topic '${topic}' does not exist in '${dir}'`, { domain: 'user' })
        }
        await writeTopicConfig(tdir, { partitions, ...resolveLogOptions({}).defaults })
        actions.push({ topic, partition: -1, kind: 'meta', segment: 'topic.json', lostFrom: 0, lostTo: 0 })
      }
      for (let p = 0; p < partitions; p++) actions.push(...(await repairPartition(dir, topic, p)))
    }
    return actions
  } finally {
    await unlock()
  }
}

async function repairPartition(logDir: string, topic: string, partition: number): Promise<RepairAction[]> {
  const pdir = join(logDir, 'topics', topic, String(partition))
  const rel = (f: string) => join('topics', topic, String(partition), 'quarantine', f)
  const actions: RepairAction[] = []
  let names: string[]
  try {
    names = await readdir(pdir)
  } catch (e) {
    if (!isNotFound(e)) throw e
    await mkdir(pdir, { recursive: true })
    names = []
  }
  if (!names.some((n) => n === 'partition.json' || /^\d{20}\.log$/.test(n))) {
    // A wiped partition starts again empty; what it held, and up to which offset, is unknown.
    await createEmptySegment(pdir, 0)
    await writeMeta(pdir, newMeta(0))
    actions.push({ topic, partition, kind: 'missing', segment: segmentFileName(0, 'log'), lostFrom: 0, lostTo: 0 })
    return actions
  }
  const known = await readMeta(pdir, `${topic}/${partition}`).catch(() => null)
  const meta: PartitionMeta = known ?? newMeta(0)
  const hadMeta = known !== undefined && known !== null
  let bases = names
    .map((n) => /^(\d{20})\.log$/.exec(n))
    .filter((m) => m !== null)
    .map((m) => Number(m![1]))
    .sort((a, b) => a - b)
    .filter((b) => !hadMeta || b >= meta.startOffset)
  let changed = false
  const act = (a: Omit<RepairAction, 'topic' | 'partition'>) => {
    actions.push({ topic, partition, ...a })
    changed = true
  }
  if (known === null) act({ kind: 'meta', segment: 'partition.json', lostFrom: 0, lostTo: 0 })

  if (hadMeta && (bases.length === 0 || bases[0] > meta.startOffset)) {
    const to = bases[0] ?? meta.lastSegment
    if (to > meta.startOffset) {
      act({ kind: 'missing', segment: segmentFileName(meta.startOffset, 'log'), lostFrom: meta.startOffset, lostTo: to })
      meta.startOffset = to
    }
  }
  if (hadMeta && (bases.length === 0 || bases[bases.length - 1] < meta.lastSegment)) {
    // The offsets the lost segments held stay used: an empty segment starts where the newest one did.
    await createEmptySegment(pdir, meta.lastSegment)
    bases.push(meta.lastSegment)
    bases.sort((a, b) => a - b)
    act({ kind: 'missing', segment: segmentFileName(meta.lastSegment, 'log'), lostFrom: meta.lastSegment, lostTo: meta.lastSegment })
  }

  for (let i = 0; i < bases.length; i++) {
    const base = bases[i]
    const name = segmentFileName(base, 'log')
    const path = join(pdir, name)
    const last = i === bases.length - 1
    const fh = await open(path, 'r+')
    let end: number
    try {
      let size = (await fh.stat()).size
      const head = Buffer.alloc(SEGMENT_HEADER_BYTES)
      const got = (await fh.read(head, 0, SEGMENT_HEADER_BYTES, 0)).bytesRead
      if (checkSegmentHeader(head.subarray(0, got), base) !== undefined) {
        const q = await quarantine(pdir, `${name}.header`, head.subarray(0, got))
        await fh.write(writeSegmentHeader(base), 0, SEGMENT_HEADER_BYTES, 0)
        await fh.datasync()
        size = Math.max(size, SEGMENT_HEADER_BYTES)
        act({ kind: 'header', segment: name, fromByte: 0, toByte: got, lostFrom: base, lostTo: base, quarantine: rel(q) })
      }
      const r = await scanChain(fh, size, base)
      end = r.next
      if (r.pos < size) {
        const next = await findNextFrame(fh, r.pos + 1, size, r.next, MAX_FRAME_BYTES)
        const to = next?.pos ?? size
        const q = await quarantine(pdir, `${name}.${r.pos}-${to}.bad`, await readRange(fh, r.pos, to))
        if (next !== undefined) {
          // The valid records after the damage go to a segment of their own, starting at their offset.
          await writeSegmentFrom(fh, pdir, next.offset, next.pos, size)
          if (next.offset > r.next) meta.gaps.push({ from: r.next, to: next.offset, quarantine: rel(q) })
          bases.splice(i + 1, 0, next.offset)
          act({ kind: 'damaged', segment: name, fromByte: r.pos, toByte: to, lostFrom: r.next, lostTo: next.offset, quarantine: rel(q) })
        } else if (!last) {
          meta.gaps.push({ from: r.next, to: bases[i + 1], quarantine: rel(q) })
          act({ kind: 'damaged', segment: name, fromByte: r.pos, toByte: to, lostFrom: r.next, lostTo: bases[i + 1], quarantine: rel(q) })
        } else act({ kind: 'torn', segment: name, fromByte: r.pos, toByte: to, lostFrom: r.next, lostTo: r.next, quarantine: rel(q) })
        if (next?.offset === base) {
          await rm(join(pdir, segmentFileName(base, 'index')), { force: true })
        } else await fh.truncate(r.pos)
        await fh.datasync()
      }
    } finally {
      await fh.close()
    }
    await rm(join(pdir, segmentFileName(base, 'index')), { force: true })
    const nextBase = bases[i + 1]
    if (nextBase !== undefined && end < nextBase && !meta.gaps.some((g) => g.to === nextBase)) {
      meta.gaps.push({ from: end, to: nextBase })
      if (!actions.some((a) => a.lostTo === nextBase)) act({ kind: 'missing', segment: segmentFileName(end, 'log'), lostFrom: end, lostTo: nextBase })
    } else if (nextBase !== undefined && end > nextBase) {
      throw new SluiceError('SLUICE_LOG_CORRUPT', `log topic '${topic}' partition ${partition}: segment ${name} runs to offset ${end}, past the next segment's base ${nextBase}`, {
        domain: 'external',
        hint: 'two segments hold the same offsets; move one of them away by hand',
      })
    }
  }
  bases = [...new Set(bases)]
  if (changed || !hadMeta) {
    meta.gaps.sort((a, b) => a.from - b.from)
    meta.lastSegment = Math.max(meta.lastSegment, bases[bases.length - 1] ?? 0)
    if (bases.length > 0) meta.startOffset = bases[0]
    await writeMeta(pdir, meta)
  }
  return actions
}

/** Scans whole frames with consecutive offsets from `base`; where it stopped and the offset expected there. */
async function scanChain(fh: FileHandle, size: number, base: number): Promise<{ pos: number; next: number }> {
  let next = base
  let pos = SEGMENT_HEADER_BYTES
  await scanFrames(fh, SEGMENT_HEADER_BYTES, size, 1 << 20, true, (f, _b, _dv, p) => {
    if (f.offset !== next) return false
    pos += f.end - p
    next++
    return true
  })
  return { pos, next }
}

async function readRange(fh: FileHandle, from: number, to: number): Promise<Buffer> {
  const b = Buffer.alloc(to - from)
  let n = 0
  while (n < b.length) {
    const { bytesRead } = await fh.read(b, n, b.length - n, from + n)
    if (bytesRead === 0) break
    n += bytesRead
  }
  return b.subarray(0, n)
}

/** Writes bytes to `<partition>/quarantine/<name>` durably; returns the file name. */
async function quarantine(pdir: string, name: string, bytes: Buffer): Promise<string> {
  const qdir = join(pdir, 'quarantine')
  await mkdir(qdir, { recursive: true })
  const fh = await open(join(qdir, name), 'w')
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await syncDir(qdir)
  return name
}

/** A new segment with base `base` holding the frames of `src` from byte `from` to `to` (tmp, fsync, rename). */
async function writeSegmentFrom(src: FileHandle, pdir: string, base: number, from: number, to: number): Promise<void> {
  const path = join(pdir, segmentFileName(base, 'log'))
  const tmp = `${path}.tmp`
  const out = await open(tmp, 'w')
  try {
    await out.write(writeSegmentHeader(base), 0, SEGMENT_HEADER_BYTES, 0)
    const chunk = Buffer.allocUnsafe(1 << 20)
    for (let pos = from; pos < to; ) {
      const { bytesRead } = await src.read(chunk, 0, Math.min(chunk.length, to - pos), pos)
      if (bytesRead === 0) break
      await out.write(chunk, 0, bytesRead, SEGMENT_HEADER_BYTES + pos - from)
      pos += bytesRead
    }
    await out.sync()
  } finally {
    await out.close()
  }
  await rename(tmp, path)
  await syncDir(pdir)
}

async function createEmptySegment(pdir: string, base: number): Promise<void> {
  const path = join(pdir, segmentFileName(base, 'log'))
  if ((await stat(path).catch(() => undefined)) !== undefined) return
  await writeFile(path, writeSegmentHeader(base))
  await syncDir(pdir)
}
