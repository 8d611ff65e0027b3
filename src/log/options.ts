import { parseDuration } from '../core/duration.ts'
import type { Duration } from '../core/duration.ts'
import { SluiceError } from '../core/errors.ts'

/** When appended records are forced to disk. */
export type FsyncPolicy = 'always' | 'interval' | 'never'

export interface LogLogger {
  warn(message: string): void
}

/** Settings of a topic, stored with it; `openLog`'s options give the defaults for new topics. */
export interface TopicSettings {
  /** A segment is closed and a new one started once it holds this many bytes (default 64 MiB). */
  segmentBytes?: number
  /** Bytes of records between two sparse index entries (default 4 KiB). */
  indexIntervalBytes?: number
  /** Segments whose newest record is older than this are deleted (default: kept forever). */
  retentionMs?: Duration | null
  /** Oldest segments are deleted while a partition holds more than this many bytes (default: no limit). */
  retentionBytes?: number | null
}

export interface LogOptions extends TopicSettings {
  /**
   * 'always' (default): an append resolves once its batch is written and fdatasynced, one write and one
   * fdatasync for all the batches waiting together. 'interval': appends resolve once written; the files
   * are fdatasynced every `intervalMs`. 'never': the OS decides (segments are still synced when closed).
   */
  fsync?: FsyncPolicy
  /** Period of the 'interval' policy (default 1000 ms). */
  intervalMs?: Duration
  /** Largest encoded record accepted by append (default 8 MiB). */
  maxRecordBytes?: number
  /** How often retention runs by itself (default 5 minutes; 0: only when `enforceRetention` is called). */
  retentionCheckMs?: Duration
  /** Receives one line per repaired file (default: console). */
  logger?: LogLogger
  /** The clock for default timestamps and retention by age (default Date.now). */
  now?: () => number
}

export interface TopicConfig {
  partitions: number
  segmentBytes: number
  indexIntervalBytes: number
  retentionMs: number | null
  retentionBytes: number | null
}

export interface ResolvedLogOptions {
  fsync: FsyncPolicy
  intervalMs: number
  maxRecordBytes: number
  retentionCheckMs: number
  logger: LogLogger
  now: () => number
  defaults: Omit<TopicConfig, 'partitions'>
}

const MiB = 1024 * 1024

export function resolveLogOptions(o: LogOptions): ResolvedLogOptions {
  const fsync = o.fsync ?? 'always'
  if (fsync !== 'always' && fsync !== 'interval' && fsync !== 'never') throw badOption('fsync', `must be 'always', 'interval' or 'never', got '${String(fsync)}'`)
  return {
    fsync,
    intervalMs: parseDuration(o.intervalMs ?? 1000, 'log option intervalMs', { allowZero: false }),
    maxRecordBytes: intOption('maxRecordBytes', o.maxRecordBytes ?? 8 * MiB, 64, 256 * MiB),
    retentionCheckMs: parseDuration(o.retentionCheckMs ?? 300_000, 'log option retentionCheckMs'),
    logger: o.logger ?? console,
    now: o.now ?? Date.now,
    defaults: resolveTopicSettings(o, { segmentBytes: 64 * MiB, indexIntervalBytes: 4096, retentionMs: null, retentionBytes: null }),
  }
}

export function resolveTopicSettings(s: TopicSettings, d: Omit<TopicConfig, 'partitions'>): Omit<TopicConfig, 'partitions'> {
  const retentionMs = s.retentionMs === undefined ? d.retentionMs : s.retentionMs === null ? null : parseDuration(s.retentionMs, 'log option retentionMs')
  const retentionBytes = s.retentionBytes === undefined ? d.retentionBytes : s.retentionBytes === null ? null : intOption('retentionBytes', s.retentionBytes, 0, Number.MAX_SAFE_INTEGER)
  return {
    segmentBytes: intOption('segmentBytes', s.segmentBytes ?? d.segmentBytes, 64, 1024 * MiB),
    indexIntervalBytes: intOption('indexIntervalBytes', s.indexIntervalBytes ?? d.indexIntervalBytes, 1, 64 * MiB),
    retentionMs,
    retentionBytes,
  }
}

export function intOption(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw badOption(name, `must be an integer from ${min} to ${max}, got ${String(v)}`)
  return v
}

function badOption(name: string, what: string): SluiceError {
  return new SluiceError('SLUICE_BAD_OPTION', `log option ${name} ${what}`, { step: 'log' })
}
