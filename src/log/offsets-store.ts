import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { writeFileDurable } from './fs-util.ts'

type GroupOffsets = Map<string, Map<number, number>>

/**
 * Committed offsets of consumer groups: one JSON file per group, replaced atomically and durably on
 * each commit (write temporary file, fsync, rename, fsync folder). Commits of one group that arrive
 * while its file is being written are coalesced into the next write.
 */
export class OffsetsStore {
  private readonly dir: string
  private readonly groups = new Map<string, GroupOffsets>()
  private readonly writes = new Map<string, { running: Promise<void>; again: Promise<void> | undefined }>()

  private constructor(dir: string) {
    this.dir = dir
  }

  static async open(dir: string): Promise<OffsetsStore> {
    await mkdir(dir, { recursive: true })
    const store = new OffsetsStore(dir)
    for (const f of await readdir(dir)) {
      if (!f.endsWith('.json')) continue
      const group = decodeURIComponent(f.slice(0, -'.json'.length))
      store.groups.set(group, parseGroup(await readFile(join(dir, f), 'utf8'), group))
    }
    return store
  }

  committed(group: string, topic: string, partition: number): number | undefined {
    return this.groups.get(group)?.get(topic)?.get(partition)
  }

  /** Every group with its committed offsets, for tools. */
  list(): { group: string; topic: string; partition: number; offset: number }[] {
    const out = []
    for (const [group, topics] of this.groups) for (const [topic, parts] of topics) for (const [partition, offset] of parts) out.push({ group, topic, partition, offset })
    return out
  }

  /** Records the offset and resolves once it is durable. */
  commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    if (typeof group !== 'string' || group === '' || group.length > 200) throw new SluiceError('SLUICE_BAD_ARGUMENT', 'a consumer group name must be a string of 1 to 200 characters')
    if (!Number.isSafeInteger(offset) || offset < 0) throw new SluiceError('SLUICE_BAD_ARGUMENT', `a committed offset must be a non-negative integer, got ${String(offset)}`)
    let g = this.groups.get(group)
    if (g === undefined) this.groups.set(group, (g = new Map()))
    let t = g.get(topic)
    if (t === undefined) g.set(topic, (t = new Map()))
    t.set(partition, offset)
    return this.schedule(group)
  }

  private schedule(group: string): Promise<void> {
    const w = this.writes.get(group)
    if (w === undefined) {
      const running = this.write(group).finally(() => this.writes.delete(group))
      this.writes.set(group, { running, again: undefined })
      return running
    }
    // A write is under way with older content: one more write after it carries every commit since.
    w.again ??= w.running.catch(() => undefined).then(() => {
      w.again = undefined
      return this.schedule(group)
    })
    return w.again
  }

  private write(group: string): Promise<void> {
    const g = this.groups.get(group)!
    const offsets: Record<string, Record<string, number>> = {}
    for (const [topic, parts] of g) offsets[topic] = Object.fromEntries([...parts].map(([p, o]) => [String(p), o]))
    return writeFileDurable(join(this.dir, `${encodeURIComponent(group)}.json`), JSON.stringify({ version: 1, group, offsets }) + '\n')
  }
}

function parseGroup(text: string, group: string): GroupOffsets {
  try {
    const j = JSON.parse(text) as { version?: unknown; offsets?: Record<string, Record<string, number>> }
    if (j.version !== 1 || typeof j.offsets !== 'object' || j.offsets === null) throw new Error('unexpected content')
    const m: GroupOffsets = new Map()
    for (const [topic, parts] of Object.entries(j.offsets)) {
      m.set(topic, new Map(Object.entries(parts).map(([p, o]) => [Number(p), Number(o)])))
    }
    return m
  } catch (e) {
    throw new SluiceError('SLUICE_LOG_CORRUPT', `the committed offsets of consumer group '${group}' cannot be read`, { domain: 'external', cause: e })
  }
}
