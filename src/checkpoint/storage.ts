import { createHash, type Hash } from 'node:crypto'
import { closeSync, openSync, writeSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { SluiceError, errorMessage } from '../core/errors.ts'
import { MANIFEST_FORMAT, type Manifest, type StateFileRef } from './manifest.ts'
import { failpoint } from '../core/failpoints.ts'

const PREFIX = 'chk-'
const pad = (id: number) => String(id).padStart(8, '0')

async function writeDurably(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'w')
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** A checkpoint read back and verified: its manifest, and the bytes of each state file it lists. */
export interface CheckpointRead {
  manifest: Manifest
  file(ref: Pick<StateFileRef, 'file' | 'checkpoint'>): Uint8Array
}

/** The earlier checkpoints whose folders hold state files that `m` lists (incremental checkpoints). */
export function referencedCheckpoints(m: Manifest): number[] {
  const ids = new Set<number>()
  for (const op of m.operators) for (const f of op.files) if (f.checkpoint !== undefined && f.checkpoint !== m.id) ids.add(f.checkpoint)
  return [...ids].sort((a, b) => a - b)
}

/** A state file of a checkpoint being written: its bytes, or a file already written in the staging folder. */
export type StateFileOut = { name: string; data: Uint8Array } | { name: string; path: string; bytes: number }

/**
 * A state file written as it is encoded (synchronously, into the page cache; made durable with the rest of
 * the checkpoint), with its size and SHA-256 as they go.
 */
export class StagedFile {
  private fd = -1
  private path = ''
  private hash: Hash | undefined
  private bytes = 0

  open(path: string): void {
    this.abandon()
    this.fd = openSync(path, 'w')
    this.path = path
    this.hash = createHash('sha256')
    this.bytes = 0
  }

  write(chunk: Uint8Array): void {
    for (let at = 0; at < chunk.byteLength; ) at += writeSync(this.fd, chunk, at, chunk.byteLength - at)
    this.hash!.update(chunk)
    this.bytes += chunk.byteLength
  }

  close(): { path: string; bytes: number; sha256: string } {
    closeSync(this.fd)
    this.fd = -1
    return { path: this.path, bytes: this.bytes, sha256: this.hash!.digest('hex') }
  }

  /** Closes a file left open by a failure (its checkpoint is not written; the staging folder is removed later). */
  abandon(): void {
    if (this.fd >= 0) closeSync(this.fd)
    this.fd = -1
  }
}

export function sha256(data: Uint8Array): string {
  const h = createHash('sha256')
  const CHUNK = 1 << 30
  for (let at = 0; at < data.byteLength; at += CHUNK) h.update(data.subarray(at, Math.min(at + CHUNK, data.byteLength)))
  return h.digest('hex')
}

/**
 * Checkpoints of one pipeline in a folder: `chk-00000007/` holds state files and `manifest.json`. A checkpoint
 * is written in `chk-….tmp/`, every file fsynced, then the folder renamed into place and its parent fsynced:
 * a folder without `.tmp` is complete. Failed and partial attempts are removed. An incremental checkpoint also
 * lists state files of earlier checkpoints (its base and earlier deltas), read from their folders.
 */
export class CheckpointStorage {
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
  }

  /** Where checkpoint `id` writes its state files while encoding them (removed with other leftovers by `retain`). */
  stagingFolder(id: number): string {
    return join(this.dir, PREFIX + pad(id) + '.staging.tmp')
  }

  /** Writes a complete checkpoint (files, then manifest, then the atomic rename). Returns bytes written. */
  async write(manifest: Manifest, files: StateFileOut[]): Promise<number> {
    await mkdir(this.dir, { recursive: true })
    return writeCheckpointFolder(join(this.dir, PREFIX + pad(manifest.id)), manifest, files)
  }

  /** Complete checkpoint ids, newest first. */
  async ids(): Promise<number[]> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch {
      return []
    }
    return names
      .filter((n) => n.startsWith(PREFIX) && !n.endsWith('.tmp'))
      .map((n) => Number(n.slice(PREFIX.length)))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => b - a)
  }

  /** Reads and verifies a checkpoint (manifest and every file's checksum). */
  async read(id: number): Promise<CheckpointRead> {
    const folder = join(this.dir, PREFIX + pad(id))
    return readCheckpointFolder(folder)
  }

  /**
   * The newest checkpoint that reads back whole (with the files it lists of earlier checkpoints), or undefined;
   * damaged ones are reported and skipped.
   */
  async latest(warn: (msg: string) => void = (m) => console.warn(m)): Promise<CheckpointRead | undefined> {
    for (const id of await this.ids()) {
      try {
        return await this.read(id)
      } catch (e) {
        warn(`checkpoint ${id} in '${this.dir}' is unreadable and skipped: ${errorMessage(e)}`)
      }
    }
    return undefined
  }

  /**
   * Keeps the newest `keep` complete checkpoints and every earlier one whose files they list, removes the
   * rest, and any leftover partial attempt.
   */
  async retain(keep: number): Promise<void> {
    const ids = await this.ids()
    const kept = new Set(ids.slice(0, keep))
    for (const id of ids.slice(0, keep)) for (const ref of await this.references(id)) kept.add(ref)
    for (const id of ids) {
      if (kept.has(id)) continue
      await rm(join(this.dir, PREFIX + pad(id)), { recursive: true, force: true })
      failpoint('checkpoint-retain')
    }
    let names: string[] = []
    try {
      names = await readdir(this.dir)
    } catch {
      return
    }
    for (const n of names) if (n.startsWith(PREFIX) && n.endsWith('.tmp')) await rm(join(this.dir, n), { recursive: true, force: true })
  }

  /** The checkpoints whose files checkpoint `id` lists; none if its manifest cannot be read (it is not restorable). */
  private async references(id: number): Promise<number[]> {
    try {
      return referencedCheckpoints(parseManifest(await readFile(join(this.dir, PREFIX + pad(id), 'manifest.json'), 'utf8')))
    } catch {
      return []
    }
  }
}

function parseManifest(text: string): Manifest {
  return JSON.parse(text, (_k, v) => (v === '+Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v)) as Manifest
}

/**
 * Writes a checkpoint or savepoint folder atomically: everything goes to `<folder>.tmp`, each file fsynced,
 * then the folder is renamed into place and its parent fsynced. Returns the bytes written.
 */
export async function writeCheckpointFolder(folder: string, manifest: Manifest, files: StateFileOut[]): Promise<number> {
  const tmp = folder + '.tmp'
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp, { recursive: true })
  let bytes = 0
  try {
    for (const f of files) {
      if ('data' in f) {
        await writeDurably(join(tmp, f.name), f.data)
        bytes += f.data.byteLength
      } else {
        // Written while it was encoded: moved into the folder, then made durable.
        await rename(f.path, join(tmp, f.name))
        await syncFile(join(tmp, f.name))
        bytes += f.bytes
      }
    }
    const m = JSON.stringify(manifest, (_k, v) => (v === Infinity ? '+Infinity' : v === -Infinity ? '-Infinity' : v), 1)
    await writeDurably(join(tmp, 'manifest.json'), m)
    bytes += Buffer.byteLength(m)
    await syncDir(tmp)
    failpoint('checkpoint-before-rename')
    await rename(tmp, folder)
    await syncDir(dirname(folder))
  } catch (e) {
    await rm(tmp, { recursive: true, force: true })
    throw e
  }
  return bytes
}

/**
 * Reads a checkpoint or savepoint folder and checks every file against the manifest's checksums; files of
 * earlier checkpoints are read from their folders beside this one.
 */
export async function readCheckpointFolder(folder: string): Promise<CheckpointRead> {
  let text: string
  try {
    text = await readFile(join(folder, 'manifest.json'), 'utf8')
  } catch (e) {
    throw new SluiceError('SLUICE_CHECKPOINT_UNREADABLE', `no readable manifest in '${folder}': ${errorMessage(e)}`, { domain: 'user' })
  }
  const manifest = parseManifest(text)
  if (manifest.format !== MANIFEST_FORMAT) {
    throw new SluiceError('SLUICE_CHECKPOINT_UNREADABLE', `checkpoint '${folder}' has format ${manifest.format}; this version reads format ${MANIFEST_FORMAT}`)
  }
  const files = new Map<string, Uint8Array>()
  const keyOf = (f: Pick<StateFileRef, 'file' | 'checkpoint'>) => `${f.checkpoint ?? manifest.id}/${f.file}`
  for (const op of manifest.operators) {
    for (const f of op.files) {
      const own = f.checkpoint === undefined || f.checkpoint === manifest.id
      const where = own ? folder : join(dirname(folder), PREFIX + pad(f.checkpoint!))
      let data: Uint8Array
      try {
        data = await readFile(join(where, f.file))
      } catch (e) {
        throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${f.file}' of step '${op.step}' is missing in '${where}'${own ? '' : ` (checkpoint ${manifest.id} builds on it)`}: ${errorMessage(e)}`, { domain: 'external' })
      }
      if (data.byteLength !== f.bytes || sha256(data) !== f.sha256) {
        throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${f.file}' of step '${op.step}' in '${where}' does not match its checksum`, { domain: 'external' })
      }
      files.set(keyOf(f), data)
    }
  }
  return { manifest, file: (f) => files.get(keyOf(f))! }
}
