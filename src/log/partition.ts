import { mkdir } from 'node:fs/promises'
import { SluiceError } from '../core/errors.ts'
import { decodeHeaders, encodeBatch, SEGMENT_HEADER_BYTES } from './frame.ts'
import type { LogRecordInput } from './frame.ts'
import { Segment, scanFrames } from './segment.ts'
import { recoverSegments, repairCommand } from './recover.ts'
import { syncDir } from './fs-util.ts'
import { PARTITION_META, newMeta, readMeta, writeMeta, type PartitionMeta } from './partition-meta.ts'
import type { ResolvedLogOptions, TopicConfig } from './options.ts'

/** Records read from a partition, as parallel arrays; key, value and header bytes share the read buffer. */
export interface LogBatch {
  offsets: number[]
  timestamps: number[]
  /** null for a record appended without a key. */
  keys: (Buffer | null)[]
  values: Buffer[]
  /** Present when some record of the batch has headers; null for the others. */
  headers?: (Record<string, Buffer> | null)[]
  /** The offset to read next. */
  nextOffset: number
  /** Bytes of the frames read. */
  bytes: number
}

export interface ReadOptions {
  /** Most records to return (default 1000). */
  maxRecords?: number
  /** Stop adding records once this many bytes are read (default 1 MiB); at least one record is returned. */
  maxBytes?: number
}

export interface AppendResult {
  /** Offset of the first record of the batch. */
  baseOffset: number
  /** The offset after the last record of the batch. */
  nextOffset: number
}

interface Pending {
  seg: Segment
  buf: Buffer
  first: number
  count: number
  maxTimestamp: number
  resolve(r: AppendResult): void
  reject(e: unknown): void
}

/** Most buffers handed to one writev. */
const MAX_WRITE_BUFFERS = 512

/**
 * One partition: an ordered list of segments, the last one being written. Appends are encoded at once
 * (so offsets follow call order) and queued; one writer writes every queued batch of a segment with one
 * writev and, under the 'always' policy, one fdatasync, then resolves them together (group commit).
 */
export class Partition {
  readonly topic: string
  readonly id: number
  readonly dir: string
  private readonly config: TopicConfig
  private readonly opts: ResolvedLogOptions
  /** Segments in offset order; the last one may not exist on disk yet (queued roll). */
  segments: Segment[]
  /** The segment the writer writes to; those before it are sealed (synced, indexed). */
  private current: Segment
  private nextOffset: number
  private queue: Pending[] = []
  private writing: Promise<void> | undefined
  private syncing: Promise<void> | undefined
  private dirty = false
  /** Counters: batches appended, writes (writev calls) and fdatasyncs; group commit makes the last two smaller. */
  readonly stats = { appends: 0, writes: 0, syncs: 0 }
  private failure: SluiceError | undefined
  private closed = false
  private meta: PartitionMeta
  private readonly logDir: string

  private constructor(topic: string, id: number, dir: string, config: TopicConfig, opts: ResolvedLogOptions, segments: Segment[], meta: PartitionMeta, logDir: string) {
    this.topic = topic
    this.id = id
    this.dir = dir
    this.config = config
    this.opts = opts
    this.segments = segments
    this.current = segments[segments.length - 1]
    this.nextOffset = this.current.endOffset
    this.meta = meta
    this.logDir = logDir
  }

  /** Opens (with `creating`, creates) a partition folder; see recoverSegments for the checks. */
  static async open(topic: string, id: number, dir: string, config: TopicConfig, opts: ResolvedLogOptions, logDir: string, creating: boolean): Promise<Partition> {
    await mkdir(dir, { recursive: true })
    const label = `${topic}/${id}`
    let meta = await readMeta(dir, label)
    const ctx = { label, logDir, topic, indexInterval: config.indexIntervalBytes, logger: opts.logger }
    let segments = await recoverSegments(dir, ctx, meta)
    // A topic's partitions are all made before its topic.json: one with no file at all was wiped.
    if (segments.length === 0 && meta === undefined && !creating) {
      throw new SluiceError('SLUICE_LOG_CORRUPT', `log topic '${topic}' partition ${id}: its folder holds no segment and no ${PARTITION_META} (it was emptied or deleted)`, {
        domain: 'external',
        hint: `restore the partition folder from a backup; or run '${repairCommand(ctx)}' to start it again empty`,
      })
    }
    if (segments.length === 0) {
      const seg = new Segment(dir, 0, config.indexIntervalBytes, false)
      await seg.create(dir)
      segments = [seg]
    }
    const last = segments[segments.length - 1].baseOffset
    // Written for a new partition or one from before the file existed; moved on after a roll a crash interrupted.
    if (meta === undefined || meta.lastSegment < last) {
      meta = { ...(meta ?? newMeta(segments[0].baseOffset)), lastSegment: last }
      await writeMeta(dir, meta)
    }
    return new Partition(topic, id, dir, config, opts, segments, meta, logDir)
  }

  /** The first offset still stored (it advances when retention deletes segments). */
  get startOffset(): number {
    return this.segments[0].baseOffset
  }

  /** The offset after the last readable record. */
  get endOffset(): number {
    return this.current.endOffset
  }

  get sizeBytes(): number {
    let n = 0
    for (const s of this.segments) n += s.visibleSize
    return n
  }

  /**
   * Appends records; resolves once they are written (and fdatasynced under 'always') with the offset of
   * the first one. Offsets are dense from 0 per partition.
   */
  append(records: readonly LogRecordInput[]): Promise<AppendResult> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(closedError(this.topic, this.id))
    if (!Array.isArray(records)) return Promise.reject(new SluiceError('SLUICE_LOG_BAD_RECORD', 'append takes an array of records'))
    if (records.length === 0) return Promise.resolve({ baseOffset: this.nextOffset, nextOffset: this.nextOffset })
    let seg = this.segments[this.segments.length - 1]
    if (seg.projectedSize >= this.config.segmentBytes && projectedEnd(seg, this.nextOffset)) {
      seg = new Segment(this.dir, this.nextOffset, this.config.indexIntervalBytes, false)
      this.segments.push(seg)
    }
    let enc
    try {
      enc = encodeBatch(records, this.nextOffset, seg.projectedSize, this.opts.now(), this.opts.maxRecordBytes, seg.index)
    } catch (e) {
      return Promise.reject(e)
    }
    const first = this.nextOffset
    this.nextOffset += enc.count
    this.stats.appends++
    seg.projectedSize += enc.buf.length
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ seg, buf: enc.buf, first, count: enc.count, maxTimestamp: enc.maxTimestamp, resolve, reject })
      this.writing ??= this.drain()
    })
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const seg = this.queue[0].seg
        let n = 1
        while (n < this.queue.length && n < MAX_WRITE_BUFFERS && this.queue[n].seg === seg) n++
        const group = this.queue.splice(0, n)
        try {
          if (seg !== this.current) await this.roll(seg)
          const bufs = group.map((g) => g.buf)
          let bytes = 0
          for (const b of bufs) bytes += b.length
          await seg.append(bufs, bytes)
          this.stats.writes++
          if (this.opts.fsync === 'always') {
            await seg.sync()
            this.stats.syncs++
          } else this.dirty = true
        } catch (e) {
          this.fail(e)
          for (const g of group) g.reject(this.failure)
          continue
        }
        for (const g of group) {
          seg.visibleSize += g.buf.length
          seg.endOffset = g.first + g.count
          if (g.maxTimestamp > seg.maxTimestamp) seg.maxTimestamp = g.maxTimestamp
          g.resolve({ baseOffset: g.first, nextOffset: g.first + g.count })
        }
      }
    } finally {
      this.writing = undefined
    }
  }

  /** Seals the current segment (data and index durable) and creates the next one. */
  private async roll(next: Segment): Promise<void> {
    const prev = this.current
    await prev.sync()
    await prev.saveIndex()
    await next.create(this.dir)
    this.current = next
    this.meta = { ...this.meta, lastSegment: next.baseOffset }
    await writeMeta(this.dir, this.meta)
  }

  private fail(e: unknown, what = 'writing failed'): void {
    this.failure ??= new SluiceError('SLUICE_LOG_IO', `log ${this.topic}/${this.id}: ${what}; the partition takes no more appends until the log is reopened`, {
      domain: 'external',
      cause: e,
      hint: 'check the disk (space, permissions); reopening the log repairs a partly written tail',
    })
    for (const g of this.queue.splice(0)) g.reject(this.failure)
  }

  /**
   * fdatasyncs the segment being written if appends were written since the last sync. A failed sync
   * fails the partition: after it the OS may have dropped the written pages, so records already
   * acknowledged may be gone, and the next append (and so the job) must fail rather than go on.
   */
  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.syncing !== undefined) return this.syncing
    if (!this.dirty) return Promise.resolve()
    this.dirty = false
    const seg = this.current
    this.stats.syncs++
    this.syncing = seg
      .sync()
      .catch((e: unknown) => {
        this.fail(e, 'fdatasync failed')
        throw this.failure
      })
      .finally(() => (this.syncing = undefined))
    return this.syncing
  }

  /** Waits for queued appends to be written, then fdatasyncs. */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing
    await this.syncing
    await this.sync()
  }

  /**
   * Reads records from `from` on, across segments, with one read per chunk of about `maxBytes`.
   * Reading below the start offset (deleted by retention) or beyond the end is an error
   * (SLUICE_LOG_OFFSET_OUT_OF_RANGE); reading at the end returns an empty batch.
   */
  async readBatch(from: number, options: ReadOptions = {}): Promise<LogBatch> {
    const maxRecords = options.maxRecords ?? 1000
    const maxBytes = options.maxBytes ?? 1024 * 1024
    if (!Number.isSafeInteger(from)) throw new SluiceError('SLUICE_BAD_ARGUMENT', `log read offset must be an integer, got ${String(from)}`)
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 1 || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new SluiceError('SLUICE_BAD_ARGUMENT', 'log read maxRecords and maxBytes must be positive integers')
    }
    if (this.closed) throw closedError(this.topic, this.id)
    this.checkRange(from)
    const out: LogBatch = { offsets: [], timestamps: [], keys: [], values: [], nextOffset: from, bytes: 0 }
    let next = from
    let si = this.segmentIndexOf(from)
    while (si < this.segments.length && out.offsets.length < maxRecords && out.bytes < maxBytes) {
      const seg = this.segments[si]
      if (next >= seg.endOffset) {
        if (seg === this.current) break
        si++
        continue
      }
      if (!seg.acquire()) throw this.outOfRange(next)
      try {
        next = await this.readSegment(seg, next, maxRecords, maxBytes, out)
      } finally {
        seg.release()
      }
      si++
    }
    out.nextOffset = next
    return out
  }

  private async readSegment(seg: Segment, from: number, maxRecords: number, maxBytes: number, out: LogBatch): Promise<number> {
    const e = seg.index.floorOffset(from)
    const start = e < 0 ? SEGMENT_HEADER_BYTES : seg.index.positions[e]
    let expect = e < 0 ? seg.baseOffset : seg.index.offsets[e]
    const limit = seg.visibleSize
    const end = seg.endOffset
    const records = end - seg.baseOffset
    const avg = records > 0 ? (limit - SEGMENT_HEADER_BYTES) / records : 256
    const wanted = Math.min((maxRecords - out.offsets.length) * avg, maxBytes - out.bytes) + seg.index.interval + 2 * avg
    const chunk = Math.max(4096, Math.ceil(wanted))
    let bad = false
    const fh = await seg.handle()
    const r = await scanFrames(fh, start, limit, chunk, true, (f, buf, dv, p) => {
      if (f.offset !== expect) return !(bad = true)
      expect++
      if (f.offset < from) return true
      out.offsets.push(f.offset)
      out.timestamps.push(f.timestamp)
      out.keys.push(f.keyStart < 0 ? null : buf.subarray(f.keyStart, f.keyEnd))
      out.values.push(buf.subarray(f.valueStart, f.valueEnd))
      if (f.headersStart >= 0) {
        out.headers ??= new Array<Record<string, Buffer> | null>(out.offsets.length - 1).fill(null)
        out.headers.push(decodeHeaders(buf, dv, f.headersStart, f.end))
      } else if (out.headers !== undefined) out.headers.push(null)
      out.bytes += f.end - p
      return out.offsets.length < maxRecords && out.bytes < maxBytes
    })
    if (bad || (r.stop !== 'end' && r.stop !== 'visitor') || (r.stop === 'end' && expect !== end)) {
      // Open checks sealed segments cheaply (from their last index entry), so older damage shows here.
      throw new SluiceError('SLUICE_LOG_CORRUPT', `log topic '${this.topic}' partition ${this.id}: segment file ${seg.name} is damaged at byte ${r.pos} (reading offset ${expect})`, {
        domain: 'external',
        position: `${seg.name}@${r.pos}`,
        hint: `close the log and run 'sluice log repair ${this.logDir} --topic ${this.topic}' to move the damaged bytes to a quarantine file and keep every valid record after them, or restore the file from a backup`,
      })
    }
    return expect
  }

  /**
   * The offset of the first record whose timestamp is >= `t`, or the end offset when there is none.
   * Uses each segment's newest timestamp and the index's time column, then scans at most an index
   * interval or so of records.
   */
  async offsetForTimestamp(t: number): Promise<number> {
    if (typeof t !== 'number' || Number.isNaN(t)) throw new SluiceError('SLUICE_BAD_ARGUMENT', `log timestamp must be a number, got ${String(t)}`)
    if (this.closed) throw closedError(this.topic, this.id)
    for (const seg of this.segments) {
      if (seg.endOffset === seg.baseOffset || seg.maxTimestamp < t) continue
      if (!seg.acquire()) continue
      try {
        const e = seg.index.lastOlderThan(t)
        const start = e < 0 ? SEGMENT_HEADER_BYTES : seg.index.positions[e]
        let found = -1
        const fh = await seg.handle()
        await scanFrames(fh, start, seg.visibleSize, 64 * 1024, true, (f) => {
          if (f.timestamp < t) return true
          found = f.offset
          return false
        })
        if (found >= 0) return found
      } finally {
        seg.release()
      }
    }
    return this.endOffset
  }

  /** Deletes the `n` oldest segments (sealed ones only); the start offset moves to the next segment. */
  async deleteOldest(n: number): Promise<number> {
    const sealed = this.segments.indexOf(this.current)
    const k = Math.min(n, sealed)
    if (k <= 0) return 0
    // The new start goes first: open deletes segments below it, so a crash in between loses nothing more.
    const start = this.segments[k].baseOffset
    this.meta = { ...this.meta, startOffset: start, gaps: this.meta.gaps.filter((g) => g.to > start) }
    await writeMeta(this.dir, this.meta)
    const gone = this.segments.splice(0, k)
    for (const s of gone) await s.remove()
    await syncDir(this.dir)
    return k
  }

  /** Sealed segments, oldest first, for retention decisions. */
  sealedSegments(): readonly Segment[] {
    return this.segments.slice(0, this.segments.indexOf(this.current))
  }

  /** Offsets at or above the start offset that a repair took out (they hold no record). */
  get gapOffsets(): number {
    let n = 0
    for (const g of this.meta.gaps) if (g.to > this.startOffset) n += g.to - Math.max(g.from, this.startOffset)
    return n
  }

  /** Whether a write or sync failed (the partition then refuses appends). */
  get failed(): boolean {
    return this.failure !== undefined
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.flush()
      if (this.failure === undefined) await this.current.saveIndex()
    } finally {
      for (const s of this.segments) await s.closeFile()
    }
  }

  private checkRange(offset: number): void {
    if (offset < this.startOffset || offset > this.endOffset) throw this.outOfRange(offset)
  }

  private outOfRange(offset: number): SluiceError {
    return new SluiceError('SLUICE_LOG_OFFSET_OUT_OF_RANGE', `log ${this.topic}/${this.id}: offset ${offset} is outside the stored range ${this.startOffset}..${this.endOffset}`, {
      position: offset,
      hint: offset < this.startOffset ? `records below ${this.startOffset} were deleted by retention; read from the start offset` : 'read at most from the end offset',
    })
  }

  /** Index of the segment holding `offset` (the last one whose base offset is <= it). */
  private segmentIndexOf(offset: number): number {
    let lo = 0
    let hi = this.segments.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.segments[mid].baseOffset <= offset) lo = mid + 1
      else hi = mid
    }
    return Math.max(0, lo - 1)
  }
}

function projectedEnd(seg: Segment, nextOffset: number): boolean {
  return nextOffset > seg.baseOffset
}

function closedError(topic: string, id: number): SluiceError {
  return new SluiceError('SLUICE_LOG_CLOSED', `log ${topic}/${id} is closed`)
}
