import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { isNotFound, writeFileDurable } from './fs-util.ts'

/** Offsets `[from, to)` that a repair took out of a partition (their bytes are in `quarantine`, when any were left). */
export interface OffsetGap {
  from: number
  to: number
  /** File under the partition's `quarantine/` folder holding the damaged bytes; absent when the files were gone. */
  quarantine?: string
}

/**
 * What a partition folder must hold, beside its segments (`partition.json`): the start offset (moved by
 * retention), the base offset of the newest segment created, and the gaps a repair left. Open compares
 * the segment files with it, so a deleted segment is an error instead of a silent restart.
 */
export interface PartitionMeta {
  version: 1
  startOffset: number
  lastSegment: number
  gaps: OffsetGap[]
}

export const PARTITION_META = 'partition.json'

export function newMeta(base: number): PartitionMeta {
  return { version: 1, startOffset: base, lastSegment: base, gaps: [] }
}

/** The partition's metadata, or undefined for a partition written before it existed. */
export async function readMeta(dir: string, label: string): Promise<PartitionMeta | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, PARTITION_META), 'utf8')
  } catch (e) {
    if (isNotFound(e)) return undefined
    throw e
  }
  const bad = () => new SluiceError('SLUICE_LOG_CORRUPT', `log ${label}: ${PARTITION_META} is not valid`, { domain: 'external', hint: `run 'sluice log repair <dir> --topic <topic>': it writes ${PARTITION_META} again from the segment files` })
  let j: PartitionMeta
  try {
    j = JSON.parse(text) as PartitionMeta
  } catch {
    throw bad()
  }
  const int = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0
  if (j === null || typeof j !== 'object' || j.version !== 1 || !int(j.startOffset) || !int(j.lastSegment) || !Array.isArray(j.gaps)) throw bad()
  for (const g of j.gaps) if (g === null || typeof g !== 'object' || !int(g.from) || !int(g.to) || g.to <= g.from) throw bad()
  return j
}

export function writeMeta(dir: string, m: PartitionMeta): Promise<void> {
  return writeFileDurable(join(dir, PARTITION_META), JSON.stringify(m) + '\n')
}

/** The offset a segment must end at when `nextBase` follows it: `nextBase`, or the start of a repaired gap that ends there. */
export function expectedEnd(m: PartitionMeta | undefined, nextBase: number): number {
  const g = m?.gaps.find((x) => x.to === nextBase)
  return g === undefined ? nextBase : g.from
}
