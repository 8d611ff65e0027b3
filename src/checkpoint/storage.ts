import { createHash } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { SluiceError, errorMessage } from '../core/errors.ts'
import { MANIFEST_FORMAT, type Manifest } from './manifest.ts'
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

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
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
 * a folder without `.tmp` is complete. Failed and partial attempts are removed.
 */
export class CheckpointStorage {
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
  }

  /** Writes a complete checkpoint (files, then manifest, then the atomic rename). Returns bytes written. */
  async write(manifest: Manifest, files: { name: string; data: Uint8Array }[]): Promise<number> {
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
  async read(id: number): Promise<{ manifest: Manifest; file(name: string): Uint8Array }> {
    const folder = join(this.dir, PREFIX + pad(id))
    return readCheckpointFolder(folder)
  }

  /** The newest checkpoint that reads back whole, or undefined; damaged ones are reported and skipped. */
  async latest(warn: (msg: string) => void = (m) => console.warn(m)): Promise<{ manifest: Manifest; file(name: string): Uint8Array } | undefined> {
    for (const id of await this.ids()) {
      try {
        return await this.read(id)
      } catch (e) {
        warn(`checkpoint ${id} in '${this.dir}' is unreadable and skipped: ${errorMessage(e)}`)
      }
    }
    return undefined
  }

  /** Keeps the newest `keep` complete checkpoints and removes the rest, and any leftover partial attempt. */
  async retain(keep: number): Promise<void> {
    const ids = await this.ids()
    for (const id of ids.slice(keep)) await rm(join(this.dir, PREFIX + pad(id)), { recursive: true, force: true })
    let names: string[] = []
    try {
      names = await readdir(this.dir)
    } catch {
      return
    }
    for (const n of names) if (n.startsWith(PREFIX) && n.endsWith('.tmp')) await rm(join(this.dir, n), { recursive: true, force: true })
  }
}

/**
 * Writes a checkpoint or savepoint folder atomically: everything goes to `<folder>.tmp`, each file fsynced,
 * then the folder is renamed into place and its parent fsynced. Returns the bytes written.
 */
export async function writeCheckpointFolder(folder: string, manifest: Manifest, files: { name: string; data: Uint8Array }[]): Promise<number> {
  const tmp = folder + '.tmp'
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp, { recursive: true })
  let bytes = 0
  try {
    for (const f of files) {
      await writeDurably(join(tmp, f.name), f.data)
      bytes += f.data.byteLength
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

/** Reads a checkpoint or savepoint folder and checks every file against the manifest's checksums. */
export async function readCheckpointFolder(folder: string): Promise<{ manifest: Manifest; file(name: string): Uint8Array }> {
  let text: string
  try {
    text = await readFile(join(folder, 'manifest.json'), 'utf8')
  } catch (e) {
    throw new SluiceError('SLUICE_CHECKPOINT_UNREADABLE', `no readable manifest in '${folder}': ${errorMessage(e)}`, { domain: 'user' })
  }
  const manifest = JSON.parse(text, (_k, v) => (v === '+Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v)) as Manifest
  if (manifest.format !== MANIFEST_FORMAT) {
    throw new SluiceError('SLUICE_CHECKPOINT_UNREADABLE', `checkpoint '${folder}' has format ${manifest.format}; this version reads format ${MANIFEST_FORMAT}`)
  }
  const files = new Map<string, Uint8Array>()
  for (const op of manifest.operators) {
    for (const f of op.files) {
      const data = await readFile(join(folder, f.file))
      if (data.byteLength !== f.bytes || sha256(data) !== f.sha256) {
        throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${f.file}' of step '${op.step}' in '${folder}' does not match its checksum`, { domain: 'external' })
      }
      files.set(f.file, data)
    }
  }
  return { manifest, file: (name) => files.get(name)! }
}
