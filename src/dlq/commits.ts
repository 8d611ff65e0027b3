import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { isNotFound, writeFileDurable } from '../log/fs-util.ts'

/** Header that marks a dead letter written under checkpoints; its value is the checkpoint id. */
export const CHECKPOINT_HEADER = 'sluice-checkpoint'

/** Half-open offset ranges [from, to), sorted and disjoint. */
export type Ranges = [number, number][]

/** What is known of the checkpointed dead letters of one partition. */
export interface PartitionCommits {
  /** Offsets whose checkpointed letters are committed (visible). */
  committed: Ranges
  /** Checkpointed letters below this offset that are not committed were aborted and are never visible. */
  resolvedTo: number
}

/**
 * The commit state of a dead-letter topic, kept beside the log in `<dir>/dlq/<topic>.json` and replaced
 * atomically. See src/dlq/README.md for how it makes checkpointed dead letters exactly-once.
 */
export interface TopicCommits {
  version: 1
  topic: string
  partitions: Record<string, PartitionCommits>
}

export function commitsPath(dir: string, topic: string): string {
  return join(dir, 'dlq', `${topic}.json`)
}

export async function readCommits(dir: string, topic: string): Promise<TopicCommits | undefined> {
  let text: string
  try {
    text = await readFile(commitsPath(dir, topic), 'utf8')
  } catch (e) {
    if (isNotFound(e)) return undefined
    throw e
  }
  let c: TopicCommits | undefined
  try {
    c = JSON.parse(text) as TopicCommits
  } catch {
    c = undefined
  }
  if (c === undefined || c === null || c.version !== 1 || typeof c.partitions !== 'object' || c.partitions === null) {
    throw new SluiceError('SLUICE_DLQ_CORRUPT', `the commit state of dead-letter topic '${topic}' (${commitsPath(dir, topic)}) is not readable`, { domain: 'external' })
  }
  return c
}

export async function writeCommits(dir: string, c: TopicCommits): Promise<void> {
  await mkdir(join(dir, 'dlq'), { recursive: true })
  await writeFileDurable(commitsPath(dir, c.topic), JSON.stringify(c) + '\n')
}

export function partitionCommits(c: TopicCommits, partition: number): PartitionCommits {
  return (c.partitions[String(partition)] ??= { committed: [], resolvedTo: 0 })
}

/** Adds [from, to) to `ranges`, merging neighbours; returns whether anything changed. */
export function addRange(ranges: Ranges, from: number, to: number): boolean {
  if (to <= from) return false
  if (ranges.some(([a, b]) => a <= from && to <= b)) return false
  let lo = from
  let hi = to
  const keep: Ranges = []
  for (const [a, b] of ranges) {
    if (b < lo || a > hi) keep.push([a, b])
    else {
      lo = Math.min(lo, a)
      hi = Math.max(hi, b)
    }
  }
  keep.push([lo, hi])
  keep.sort((x, y) => x[0] - y[0])
  ranges.splice(0, ranges.length, ...keep)
  return true
}

export function inRanges(ranges: Ranges, offset: number): boolean {
  for (const [a, b] of ranges) if (offset >= a && offset < b) return true
  return false
}

/** Whether a letter is visible, aborted, or waiting for its checkpoint (see README). */
export type Visibility = 'visible' | 'aborted' | 'pending'

export function visibility(p: PartitionCommits | undefined, offset: number, checkpointed: boolean): Visibility {
  if (!checkpointed) return 'visible'
  if (p !== undefined && inRanges(p.committed, offset)) return 'visible'
  if (p !== undefined && offset < p.resolvedTo) return 'aborted'
  return 'pending'
}
