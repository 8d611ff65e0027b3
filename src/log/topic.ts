import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { Partition } from './partition.ts'
import { SEGMENT_HEADER_BYTES } from './frame.ts'
import { writeFileDurable } from './fs-util.ts'
import { intOption } from './options.ts'
import type { ResolvedLogOptions, TopicConfig } from './options.ts'

const TOPIC_FILE = 'topic.json'
const NAME = /^[A-Za-z0-9._-]{1,200}$/

export function checkTopicName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || name === '.' || name === '..') {
    throw new SluiceError('SLUICE_LOG_BAD_TOPIC', `log topic name ${JSON.stringify(name)} is not valid`, {
      hint: 'use 1 to 200 letters, digits, dots, dashes and underscores',
    })
  }
  return name
}

/** Writes `topic.json` (atomically). */
export function writeTopicConfig(dir: string, config: TopicConfig): Promise<void> {
  return writeFileDurable(join(dir, TOPIC_FILE), JSON.stringify({ version: 1, ...config }, null, 2) + '\n')
}

/** A named topic: its stored configuration and its partitions. */
export class Topic {
  readonly name: string
  readonly config: TopicConfig
  readonly partitions: Partition[]

  private constructor(name: string, config: TopicConfig, partitions: Partition[]) {
    this.name = name
    this.config = config
    this.partitions = partitions
  }

  /** Creates the partition folders, then `topic.json` (atomically, last: a topic without it is unfinished). */
  static async create(dir: string, name: string, config: TopicConfig, opts: ResolvedLogOptions): Promise<Topic> {
    await mkdir(dir, { recursive: true })
    const partitions = await openPartitions(dir, name, config, opts, true)
    await writeTopicConfig(dir, config)
    return new Topic(name, config, partitions)
  }

  /** Opens a topic folder; undefined when it has no `topic.json` (its creation did not finish). */
  static async open(dir: string, name: string, opts: ResolvedLogOptions): Promise<Topic | undefined> {
    let text: string
    try {
      text = await readFile(join(dir, TOPIC_FILE), 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      if (await holdsRecords(dir)) {
        throw new SluiceError('SLUICE_LOG_CORRUPT', `log topic '${name}': ${TOPIC_FILE} is missing, but the topic holds records`, {
          domain: 'external',
          hint: `restore ${TOPIC_FILE} from a backup, or run 'sluice log repair <dir> --topic ${name}' to write it again (partitions from the folders, other settings the defaults)`,
        })
      }
      return undefined
    }
    const config = parseConfig(text, name)
    return new Topic(name, config, await openPartitions(dir, name, config, opts, false))
  }

  partition(p: number): Partition {
    const part = Number.isInteger(p) ? this.partitions[p] : undefined
    if (part === undefined) {
      throw new SluiceError('SLUICE_LOG_NO_PARTITION', `log topic '${this.name}' has no partition ${String(p)} (it has ${this.partitions.length})`, { position: String(p) })
    }
    return part
  }

  async close(): Promise<void> {
    await Promise.all(this.partitions.map((p) => p.close()))
  }
}

/** Whether a topic folder has partitions with records: a topic whose creation finished, not one cut short. */
async function holdsRecords(dir: string): Promise<boolean> {
  for (const p of await readdir(dir).catch(() => [] as string[])) {
    if (!/^\d+$/.test(p)) continue
    for (const f of await readdir(join(dir, p)).catch(() => [] as string[])) {
      if (!f.endsWith('.log')) continue
      if (!/^0{20}\.log$/.test(f) || (await stat(join(dir, p, f))).size > SEGMENT_HEADER_BYTES) return true
    }
  }
  return false
}

/** The folder names of a topic's partitions, for rebuilding its topic.json. */
export async function partitionFolders(dir: string): Promise<number> {
  return (await readdir(dir).catch(() => [] as string[])).filter((p) => /^\d+$/.test(p)).length
}

async function openPartitions(dir: string, name: string, config: TopicConfig, opts: ResolvedLogOptions, creating: boolean): Promise<Partition[]> {
  const parts: Partition[] = []
  for (let i = 0; i < config.partitions; i++) parts.push(await Partition.open(name, i, join(dir, String(i)), config, opts, join(dir, '..', '..'), creating))
  return parts
}

function parseConfig(text: string, name: string): TopicConfig {
  try {
    const j = JSON.parse(text) as Record<string, unknown>
    if (j.version !== 1) throw new Error(`version ${String(j.version)} is not supported`)
    const nullableInt = (k: string) => (j[k] === null ? null : intOption(k, j[k], 0, Number.MAX_SAFE_INTEGER))
    return {
      partitions: intOption('partitions', j.partitions, 1, 100_000),
      segmentBytes: intOption('segmentBytes', j.segmentBytes, 64, 1024 * 1024 * 1024),
      indexIntervalBytes: intOption('indexIntervalBytes', j.indexIntervalBytes, 1, 64 * 1024 * 1024),
      retentionMs: nullableInt('retentionMs'),
      retentionBytes: nullableInt('retentionBytes'),
    }
  } catch (e) {
    throw new SluiceError('SLUICE_LOG_CORRUPT', `log topic '${name}': ${TOPIC_FILE} is not valid`, {
      domain: 'external',
      cause: e,
      hint: `restore ${TOPIC_FILE} from a backup, or run 'sluice log repair <dir> --topic ${name}' to write it again (partitions from the folders, other settings the defaults)`,
    })
  }
}
