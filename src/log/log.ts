import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError, errorMessage } from '../core/errors.ts'
import type { Duration } from '../core/duration.ts'
import { lockDir } from './lock.ts'
import { OffsetsStore } from './offsets-store.ts'
import { resolveLogOptions, resolveTopicSettings, intOption } from './options.ts'
import type { LogOptions, ResolvedLogOptions, TopicConfig, TopicSettings } from './options.ts'
import { segmentsToDelete } from './retention.ts'
import { Topic, checkTopicName, writeTopicConfig } from './topic.ts'
import type { AppendResult, LogBatch, ReadOptions } from './partition.ts'
import type { LogRecordInput } from './frame.ts'
import { writeFileDurable } from './fs-util.ts'

/** What `describe` says of one partition. */
export interface PartitionInfo {
  partition: number
  /** First stored offset. */
  startOffset: number
  /** The offset the next append gets (after the last readable record). */
  endOffset: number
  /** Records stored: offsets from start to end, less those a repair took out. */
  records: number
  sizeBytes: number
  segments: number
}

export interface TopicInfo {
  name: string
  config: TopicConfig
  partitions: PartitionInfo[]
}

export interface CreateTopicOptions extends TopicSettings {
  /** Number of partitions (default 1). */
  partitions?: number
}

/**
 * An embedded, durable, partitioned log in one folder. Open it with `openLog`.
 * @experimental
 */
export class Log {
  readonly dir: string
  private readonly opts: ResolvedLogOptions
  private readonly topics = new Map<string, Topic>()
  private readonly creating = new Map<string, Promise<Topic>>()
  private readonly offsets: OffsetsStore
  private readonly unlock: () => Promise<void>
  private readonly timers: NodeJS.Timeout[] = []
  private closing: Promise<void> | undefined

  private constructor(dir: string, opts: ResolvedLogOptions, offsets: OffsetsStore, unlock: () => Promise<void>) {
    this.dir = dir
    this.opts = opts
    this.offsets = offsets
    this.unlock = unlock
  }

  /** @internal use openLog */
  static async open(dir: string, options: LogOptions): Promise<Log> {
    const opts = resolveLogOptions(options)
    await mkdir(join(dir, 'topics'), { recursive: true })
    const unlock = await lockDir(dir)
    try {
      await writeFileDurable(join(dir, 'sluice-log.json'), JSON.stringify({ format: 1 }) + '\n')
      const log = new Log(dir, opts, await OffsetsStore.open(join(dir, 'groups')), unlock)
      for (const name of (await readdir(join(dir, 'topics'))).sort()) {
        const t = await Topic.open(join(dir, 'topics', name), name, opts)
        if (t === undefined) opts.logger.warn(`log: folder topics/${name} has no topic.json (its creation did not finish); it is ignored`)
        else log.topics.set(name, t)
      }
      log.startTimers()
      return log
    } catch (e) {
      await unlock()
      throw e
    }
  }

  private startTimers(): void {
    if (this.opts.fsync === 'interval') this.timers.push(setInterval(() => void this.syncAll(), this.opts.intervalMs).unref())
    if (this.opts.retentionCheckMs > 0) this.timers.push(setInterval(() => void this.enforceRetention().catch((e) => this.opts.logger.warn(`log: retention failed: ${String(e)}`)), this.opts.retentionCheckMs).unref())
  }

  /** The 'interval' sync. A failure is kept by its partition, which fails its next append (see Partition.sync). */
  private async syncAll(): Promise<void> {
    for (const t of this.topics.values()) {
      for (const p of t.partitions) {
        if (!p.failed) await p.sync().catch((e: unknown) => this.opts.logger.warn(`log: ${errorMessage(e)}`))
      }
    }
  }

  /**
   * Creates a topic; an error if it exists (see `ensureTopic`).
   * @example await log.createTopic('clicks', { partitions: 4, retentionMs: '7d' })
   */
  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<Topic> {
    this.checkOpen()
    checkTopicName(name)
    if (this.topics.has(name) || this.creating.has(name)) throw new SluiceError('SLUICE_LOG_TOPIC_EXISTS', `log topic '${name}' exists already`)
    const config: TopicConfig = { partitions: intOption('partitions', options.partitions ?? 1, 1, 100_000), ...resolveTopicSettings(options, this.opts.defaults) }
    const p = Topic.create(join(this.dir, 'topics', name), name, config, this.opts)
    this.creating.set(name, p)
    try {
      const t = await p
      this.topics.set(name, t)
      return t
    } finally {
      this.creating.delete(name)
    }
  }

  /** The topic, created with `options` if it does not exist (an existing topic keeps its settings). */
  async ensureTopic(name: string, options: CreateTopicOptions = {}): Promise<Topic> {
    const t = this.topics.get(name) ?? (await this.creating.get(name))
    return t ?? this.createTopic(name, options)
  }

  /**
   * Sets a topic's retention (kept in its topic.json); `null` keeps a limit off. The open log enforces it with
   * the others every `retentionCheckMs`.
   * @example await log.setRetention('orders.dlq', { retentionMs: '30d', retentionBytes: null })
   */
  async setRetention(name: string, retention: { retentionMs: Duration | null; retentionBytes: number | null }): Promise<void> {
    const t = this.topic(name)
    const next = resolveTopicSettings(retention, t.config)
    if (next.retentionMs === t.config.retentionMs && next.retentionBytes === t.config.retentionBytes) return
    t.config.retentionMs = next.retentionMs
    t.config.retentionBytes = next.retentionBytes
    await writeTopicConfig(join(this.dir, 'topics', name), t.config)
  }

  topic(name: string): Topic {
    const t = this.topics.get(name)
    if (t === undefined) throw new SluiceError('SLUICE_LOG_NO_TOPIC', `log topic '${name}' does not exist`, { hint: `create it with createTopic('${name}', { partitions })` })
    return t
  }

  listTopics(): string[] {
    return [...this.topics.keys()].sort()
  }

  describe(name: string): TopicInfo {
    const t = this.topic(name)
    return {
      name,
      config: { ...t.config },
      partitions: t.partitions.map((p) => ({
        partition: p.id,
        startOffset: p.startOffset,
        endOffset: p.endOffset,
        records: p.endOffset - p.startOffset - p.gapOffsets,
        sizeBytes: p.sizeBytes,
        segments: p.segments.filter((s) => s.created).length,
      })),
    }
  }

  /**
   * Appends a batch to one partition, with one write and (policy 'always') one fdatasync shared with the
   * batches appended at the same time. Resolves with the offsets given.
   * @example const { baseOffset } = await log.append('clicks', 0, [{ key: 'u1', value: JSON.stringify(click) }])
   */
  append(topic: string, partition: number, records: readonly LogRecordInput[]): Promise<AppendResult> {
    return this.topic(topic).partition(partition).append(records)
  }

  /** Reads records from `fromOffset` on (see Partition.readBatch for the range rules). */
  readBatch(topic: string, partition: number, fromOffset: number, options?: ReadOptions): Promise<LogBatch> {
    return this.topic(topic).partition(partition).readBatch(fromOffset, options)
  }

  /** The first offset whose record has a timestamp >= `timestamp`, or the end offset if none has. */
  offsetForTimestamp(topic: string, partition: number, timestamp: number): Promise<number> {
    return this.topic(topic).partition(partition).offsetForTimestamp(timestamp)
  }

  /** Reads from the first record whose timestamp is >= `timestamp`. */
  async readFromTimestamp(topic: string, partition: number, timestamp: number, options?: ReadOptions): Promise<LogBatch> {
    const p = this.topic(topic).partition(partition)
    return p.readBatch(await p.offsetForTimestamp(timestamp), options)
  }

  /** Durably records a consumer group's position: the offset it reads next. */
  commitOffset(group: string, topic: string, partition: number, offset: number): Promise<void> {
    this.checkOpen()
    this.topic(topic).partition(partition)
    return this.offsets.commit(group, topic, partition, offset)
  }

  committedOffset(group: string, topic: string, partition: number): number | undefined {
    return this.offsets.committed(group, topic, partition)
  }

  /** Every committed offset of every group. */
  listCommittedOffsets(): { group: string; topic: string; partition: number; offset: number }[] {
    return this.offsets.list()
  }

  /**
   * Deletes whole old segments past each topic's retention (age: newest record older than retentionMs;
   * size: oldest segments while a partition holds more than retentionBytes). Returns how many went.
   */
  async enforceRetention(): Promise<number> {
    const now = this.opts.now()
    let deleted = 0
    for (const t of this.topics.values()) {
      if (t.config.retentionMs === null && t.config.retentionBytes === null) continue
      for (const p of t.partitions) {
        const n = segmentsToDelete(p.sealedSegments(), p.sizeBytes, t.config, now)
        if (n > 0) deleted += await p.deleteOldest(n)
      }
    }
    return deleted
  }

  /** Waits for appends in flight and fdatasyncs every partition. */
  async flush(): Promise<void> {
    for (const t of this.topics.values()) await Promise.all(t.partitions.map((p) => p.flush()))
  }

  /** Writes out what is queued, syncs, closes files and releases the folder. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const timer of this.timers) clearInterval(timer)
      try {
        for (const t of this.topics.values()) await t.close()
      } finally {
        await this.unlock()
      }
    })()
    return this.closing
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new SluiceError('SLUICE_LOG_CLOSED', `the log in '${this.dir}' is closed`)
  }
}

/**
 * Opens (creating if needed) the log stored in `dir`, repairing a torn tail of each partition.
 * @example
 * const log = await openLog('data/log', { fsync: 'always' })
 * await log.ensureTopic('clicks', { partitions: 2 })
 * await log.append('clicks', 0, [{ value: '{"user":1}' }])
 * const batch = await log.readBatch('clicks', 0, 0)
 */
export async function openLog(dir: string, options: LogOptions = {}): Promise<Log> {
  if (typeof dir !== 'string' || dir === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'openLog needs a folder path')
  return Log.open(dir, options)
}
