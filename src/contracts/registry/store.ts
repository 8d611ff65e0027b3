import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { isNotFound, writeFileDurable } from '../../log/fs-util.ts'
import type { CompatibilityLevel } from '../compat/difference.ts'
import type { SchemaType } from '../compat/check.ts'

/** A schema, stored once and shared by every subject that registers the same text. */
export interface StoredSchema {
  id: number
  schemaType: SchemaType
  schema: string
  references?: unknown[]
}

export interface StoredVersion {
  version: number
  id: number
  deleted: boolean
}

export interface StoredSubject {
  versions: StoredVersion[]
  compatibility?: CompatibilityLevel
  /** Set once the subject is soft-deleted as a whole (`DELETE /subjects/s`). */
  deleted?: boolean
}

/** Everything the registry holds: the file `registry.json` in its folder. */
export interface RegistryState {
  format: 1
  nextId: number
  compatibility: CompatibilityLevel
  schemas: StoredSchema[]
  subjects: Record<string, StoredSubject>
}

export function emptyState(): RegistryState {
  return { format: 1, nextId: 1, compatibility: 'BACKWARD', schemas: [], subjects: {} }
}

/**
 * Keeps the registry's state in one JSON file, replaced atomically and durably (temporary file, fsync,
 * rename, fsync of the folder) on every change: a crash leaves the state before or after a change, and ids
 * never change across restarts. Without a folder the state lives in memory only.
 */
export class RegistryStore {
  readonly dir: string | undefined
  private writing: Promise<void> = Promise.resolve()

  constructor(dir: string | undefined) {
    this.dir = dir
  }

  async load(): Promise<RegistryState> {
    if (this.dir === undefined) return emptyState()
    await mkdir(this.dir, { recursive: true })
    try {
      this.stamp = await this.currentStamp()
      const state = JSON.parse(await readFile(this.file, 'utf8')) as RegistryState
      if (state.format !== 1) throw new Error(`registry.json has format ${String(state.format)}, expected 1`)
      return state
    } catch (e) {
      if (isNotFound(e)) return emptyState()
      throw e
    }
  }

  /** Writes the state; writes are serialised so the file always ends with the latest. */
  save(state: RegistryState): Promise<void> {
    if (this.dir === undefined) return Promise.resolve()
    const text = JSON.stringify(state)
    this.writing = this.writing.catch(() => undefined).then(async () => {
      await writeFileDurable(this.file, text)
      this.stamp = await this.currentStamp()
    })
    return this.writing
  }

  /**
   * Whether the file was replaced since this store last read or wrote it (by another process, or another
   * registry on the same folder): each write renames a new file into place, so its inode changes.
   */
  async changed(): Promise<boolean> {
    if (this.dir === undefined) return false
    await this.writing.catch(() => undefined)
    return (await this.currentStamp()) !== this.stamp
  }

  private stamp = ''

  private async currentStamp(): Promise<string> {
    try {
      const s = await stat(this.file, { bigint: true })
      return `${s.ino}:${s.mtimeNs}:${s.size}`
    } catch (e) {
      if (isNotFound(e)) return ''
      throw e
    }
  }

  private get file(): string {
    return join(this.dir!, 'registry.json')
  }
}
