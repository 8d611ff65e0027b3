import { createHash, type Hash } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { SluiceError, errorMessage } from '../core/errors.ts'
import { lockFolder } from '../core/folder-lock.ts'
import { decodeManifest, encodeManifest, type Manifest, type StateFileRef } from './manifest.ts'
import { failpoint } from '../core/failpoints.ts'

const PREFIX = 'chk-'
const pad = (id: number) => String(id).padStart(8, '0')

/**
 * The folder of complete checkpoint `id` in a local checkpoint folder.
 * @example checkpointFolder('state/clicks', 7) // 'state/clicks/chk-00000007'
 */
export function checkpointFolder(dir: string, id: number): string {
  return join(dir, PREFIX + pad(id))
}

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
  /**
   * `length` bytes of a state file from `offset`, when the checkpoint can read part of a file without
   * holding all of it (a folder: large files stay on disk once verified, and a restore reads what it needs).
   */
  range?(ref: Pick<StateFileRef, 'file' | 'checkpoint'>, offset: number, length: number): Uint8Array
}

/** State files up to this size are held in memory once read; larger ones are read again, in parts, as needed. */
const HELD_BYTES = 16 << 20

/** The earlier checkpoints whose folders hold state files that `m` lists (incremental checkpoints). */
export function referencedCheckpoints(m: Manifest): number[] {
  const ids = new Set<number>()
  for (const op of m.operators) for (const f of op.files) if (f.checkpoint !== undefined && f.checkpoint !== m.id) ids.add(f.checkpoint)
  return [...ids].sort((a, b) => a - b)
}

/**
 * A state file of a checkpoint being written: its bytes, or a file already written in the staging folder
 * (with `error` when writing it failed: the checkpoint then fails when it is written).
 */
export type StateFileOut = { name: string; data: Uint8Array } | { name: string; path: string; bytes: number; error?: unknown }

/**
 * A state file written as it is encoded (synchronously, into the page cache; made durable with the rest of
 * the checkpoint), with its size and SHA-256 as they go. It never throws: it runs inside the synchronous part
 * of a checkpoint, so a failure (a full disk) is kept and returned by `close`, and the checkpoint fails when
 * it is written, as any failed checkpoint does.
 */
export class StagedFile {
  private fd = -1
  private path = ''
  private hash: Hash | undefined
  private bytes = 0
  private error: unknown

  open(path: string): void {
    this.abandon()
    this.path = path
    this.hash = createHash('sha256')
    this.bytes = 0
    this.error = undefined
    try {
      this.fd = openSync(path, 'w')
    } catch (e) {
      this.error = e
    }
  }

  write(chunk: Uint8Array): void {
    if (this.error !== undefined) return
    try {
      for (let at = 0; at < chunk.byteLength; ) at += writeSync(this.fd, chunk, at, chunk.byteLength - at)
    } catch (e) {
      this.error = e
      return
    }
    this.hash!.update(chunk)
    this.bytes += chunk.byteLength
  }

  close(): { path: string; bytes: number; sha256: string; error?: unknown } {
    this.abandon()
    const digest = this.hash!.digest('hex')
    return { path: this.path, bytes: this.bytes, sha256: digest, ...(this.error === undefined ? {} : { error: this.error }) }
  }

  /** Closes a file left open by a failure (its checkpoint is not written; the staging folder is removed later). */
  abandon(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd)
      } catch (e) {
        this.error ??= e
      }
    }
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
  /** Why a staging folder could not be made ready, by checkpoint id: that checkpoint fails when written. */
  private readonly stagingFailures = new Map<number, unknown>()
  private unlock: (() => Promise<void>) | undefined

  constructor(dir: string) {
    this.dir = dir
  }

  /**
   * Takes the folder for this process (a `LOCK` file with its pid) before anything in it is read or removed:
   * a second process on the same folder fails with SLUICE_CHECKPOINT_LOCKED naming the holder's pid. A lock
   * left by a process that no longer runs is taken over. Savepoint folders are not locked.
   * @example const storage = new CheckpointStorage('chk'); await storage.lock(); ...; await storage.release()
   */
  async lock(): Promise<void> {
    if (this.unlock !== undefined) return
    try {
      await mkdir(this.dir, { recursive: true })
    } catch (e) {
      throw writeFailed(this.dir, e)
    }
    const locked = (by: string) =>
      new SluiceError('SLUICE_CHECKPOINT_LOCKED', `the checkpoint folder '${this.dir}' is in use by ${by}`, {
        domain: 'user',
        retryable: true,
        hint: 'stop the other job first, or give this one another --checkpoint-dir; two jobs on one folder would destroy each other\'s checkpoints',
      })
    try {
      this.unlock = await lockFolder(this.dir, locked)
    } catch (e) {
      // A lock file that cannot be created (a read-only folder) is no reason to report a defect.
      throw writeFailed(join(this.dir, 'LOCK'), e)
    }
  }

  /** Releases the lock taken by `lock` (nothing if none). */
  async release(): Promise<void> {
    const unlock = this.unlock
    this.unlock = undefined
    await unlock?.()
  }

  /** Where checkpoint `id` writes its state files while encoding them (removed with other leftovers by `retain`). */
  stagingFolder(id: number): string {
    return join(this.dir, PREFIX + pad(id) + '.staging.tmp')
  }

  /**
   * Makes checkpoint `id`'s staging folder ready, empty, and returns it. It never throws (it runs in the
   * synchronous part of a checkpoint): a failure makes that checkpoint fail when it is written.
   */
  openStaging(id: number): string {
    const folder = this.stagingFolder(id)
    try {
      rmSync(folder, { recursive: true, force: true })
      mkdirSync(folder, { recursive: true })
    } catch (e) {
      this.stagingFailures.set(id, e)
    }
    return folder
  }

  /**
   * Writes a complete checkpoint (files, then manifest, then the atomic rename). Returns bytes written; a
   * failure (a full disk, a read-only folder) is SLUICE_CHECKPOINT_WRITE_FAILED, a failed checkpoint.
   */
  async write(manifest: Manifest, files: StateFileOut[]): Promise<number> {
    const folder = checkpointFolder(this.dir, manifest.id)
    const staged = this.stagingFailures.get(manifest.id)
    if (staged !== undefined) {
      this.stagingFailures.delete(manifest.id)
      throw writeFailed(folder, staged)
    }
    try {
      await mkdir(this.dir, { recursive: true })
    } catch (e) {
      throw writeFailed(folder, e)
    }
    return writeCheckpointFolder(folder, manifest, files)
  }

  /**
   * Complete checkpoint ids, newest first. A folder that does not exist holds none; one that cannot be listed
   * (EIO, EACCES, EMFILE) is SLUICE_CHECKPOINT_UNLISTABLE: taking it for empty would make sinks recover from
   * nothing and remove committed output.
   */
  async ids(): Promise<number[]> {
    const names = await this.list()
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
  async latest(warn: (msg: string) => void = (m) => console.warn(m)): Promise<LatestCheckpoint> {
    const skipped: SkippedCheckpoint[] = []
    for (const id of await this.ids()) {
      try {
        return { read: await this.read(id), skipped }
      } catch (e) {
        // Only damage is skipped: an error reading a folder that is there (EIO, EACCES) stops the start.
        if (!(e instanceof SluiceError) || (e.code !== 'SLUICE_CHECKPOINT_CORRUPT' && e.code !== 'SLUICE_CHECKPOINT_UNREADABLE')) throw e
        skipped.push({ id, reason: errorMessage(e) })
        warn(`checkpoint ${id} in '${this.dir}' is unreadable and skipped: ${errorMessage(e)}`)
      }
    }
    if (skipped.length > 0) warn(`no checkpoint in '${this.dir}' reads back whole: ${skipped.length} skipped (${skipped.map((s) => s.id).join(', ')})`)
    return { read: undefined, skipped }
  }

  /**
   * Keeps the newest `keep` complete checkpoints and every earlier one whose files they list, removes the
   * rest, and any leftover partial attempt.
   */
  async retain(keep: number): Promise<void> {
    for (const id of await this.unretained(keep)) {
      await rm(join(this.dir, PREFIX + pad(id)), { recursive: true, force: true })
      failpoint('checkpoint-retain')
    }
    for (const n of await this.list()) if (n.startsWith(PREFIX) && n.endsWith('.tmp')) await rm(join(this.dir, n), { recursive: true, force: true })
  }

  /** The checkpoints `retain(keep)` would remove, newest first. */
  async unretained(keep: number): Promise<number[]> {
    const ids = await this.ids()
    const kept = new Set(ids.slice(0, keep))
    for (const id of ids.slice(0, keep)) for (const ref of await this.references(id)) kept.add(ref)
    return ids.filter((id) => !kept.has(id))
  }

  /** The folder of checkpoint `id`. */
  folderOf(id: number): string {
    return join(this.dir, PREFIX + pad(id))
  }

  /**
   * The checkpoints whose files checkpoint `id` lists; none if its manifest does not parse. Not verified: a
   * manifest that fails its checksum still keeps what it seems to build on (retention errs on keeping).
   */
  private async references(id: number): Promise<number[]> {
    try {
      return referencedCheckpoints(JSON.parse(await readFile(join(this.dir, PREFIX + pad(id), 'manifest.json'), 'utf8')) as Manifest)
    } catch {
      return []
    }
  }

  /** The folder's entries; none if it does not exist. */
  private async list(): Promise<string[]> {
    try {
      return await readdir(this.dir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw new SluiceError('SLUICE_CHECKPOINT_UNLISTABLE', `the checkpoint folder '${this.dir}' cannot be listed (${errnoOf(e)}): ${errorMessage(e)}`, {
        domain: 'external',
        retryable: true,
        cause: e,
        hint: 'check the folder\'s permissions and the disk; the job does not start without knowing which checkpoints it holds',
      })
    }
  }
}

/** What `latest` found: the checkpoint to restore (undefined if none reads back whole) and the newer ones skipped. */
export interface LatestCheckpoint {
  read: CheckpointRead | undefined
  /**
   * Newer complete checkpoints skipped as damaged, newest first. Non-empty with `read` set: a fallback (the
   * skipped ones may have committed output). Non-empty without `read`: every checkpoint is unreadable.
   */
  skipped: SkippedCheckpoint[]
}

export interface SkippedCheckpoint {
  id: number
  reason: string
}

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'error'
}

/** A checkpoint (or savepoint) that could not be written: a failed checkpoint, which a retry may get through. */
function writeFailed(folder: string, e: unknown): SluiceError {
  if (e instanceof SluiceError) return e
  return new SluiceError('SLUICE_CHECKPOINT_WRITE_FAILED', `could not write '${folder}' (${errnoOf(e)}): ${errorMessage(e)}`, {
    domain: 'external',
    retryable: true,
    cause: e,
    hint: 'check free space and permissions of the checkpoint folder',
  })
}

/**
 * Writes a checkpoint or savepoint folder atomically: everything goes to `<folder>.tmp`, each file fsynced,
 * then the folder is renamed into place and its parent fsynced. Returns the bytes written.
 */
export async function writeCheckpointFolder(folder: string, manifest: Manifest, files: StateFileOut[]): Promise<number> {
  const tmp = folder + '.tmp'
  let bytes = 0
  try {
    await rm(tmp, { recursive: true, force: true })
    await mkdir(tmp, { recursive: true })
    for (const f of files) {
      if ('error' in f && f.error !== undefined) throw f.error
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
    const m = encodeManifest(manifest)
    await writeDurably(join(tmp, 'manifest.json'), m)
    bytes += Buffer.byteLength(m)
    await syncDir(tmp)
    failpoint('checkpoint-before-rename')
    await rename(tmp, folder)
    await syncDir(dirname(folder))
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined)
    throw writeFailed(folder, e)
  }
  return bytes
}

/**
 * Reads a checkpoint or savepoint folder and checks every file against the manifest's checksums; files of
 * earlier checkpoints are read from their folders beside this one. Files over `heldBytes` are checked as they
 * are read and not kept: `file` and `range` read them again.
 */
export async function readCheckpointFolder(folder: string, heldBytes: number = HELD_BYTES): Promise<CheckpointRead> {
  let text: string
  try {
    text = await readFile(join(folder, 'manifest.json'), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(folder, 'its manifest', e)
    throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `no manifest in '${folder}'`, { domain: 'external' })
  }
  const manifest = decodeManifest(text, folder)
  // A small file's bytes, or a large one's path (checked here, read again in parts by a restore).
  const files = new Map<string, Uint8Array | string>()
  const keyOf = (f: Pick<StateFileRef, 'file' | 'checkpoint'>) => `${f.checkpoint ?? manifest.id}/${f.file}`
  for (const op of manifest.operators) {
    for (const f of op.files) {
      const own = f.checkpoint === undefined || f.checkpoint === manifest.id
      const where = own ? folder : join(dirname(folder), PREFIX + pad(f.checkpoint!))
      const path = join(where, f.file)
      let held: Uint8Array | string
      let hash: string
      try {
        if (f.bytes <= heldBytes) hash = sha256((held = await readFile(path)))
        else [held, hash] = [path, await hashFile(path, f.bytes)]
      } catch (e) {
        if (e instanceof SluiceError) throw e
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(where, `state file '${f.file}'`, e)
        throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${f.file}' of step '${op.step}' is missing in '${where}'${own ? '' : ` (checkpoint ${manifest.id} builds on it)`}: ${errorMessage(e)}`, { domain: 'external' })
      }
      if ((typeof held !== 'string' && held.byteLength !== f.bytes) || hash !== f.sha256) {
        throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${f.file}' of step '${op.step}' in '${where}' does not match its checksum`, { domain: 'external' })
      }
      files.set(keyOf(f), held)
    }
  }
  const readAgain = (path: string, offset: number, length: number): Uint8Array => {
    try {
      const fd = openSync(path, 'r')
      try {
        const out = Buffer.allocUnsafeSlow(length)
        for (let at = 0; at < length; ) {
          const n = readSync(fd, out, at, length - at, offset + at)
          if (n === 0) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${path}' became shorter after it was checked`, { domain: 'external' })
          at += n
        }
        return out
      } finally {
        closeSync(fd)
      }
    } catch (e) {
      if (e instanceof SluiceError) throw e
      throw unreadable(dirname(path), `state file '${path}'`, e)
    }
  }
  return {
    manifest,
    file: (f) => {
      const held = files.get(keyOf(f))!
      return typeof held === 'string' ? readAgain(held, 0, statSync(held).size) : held
    },
    range: (f, offset, length) => {
      const held = files.get(keyOf(f))!
      return typeof held === 'string' ? readAgain(held, offset, length) : held.subarray(offset, offset + length)
    },
  }
}

/** The SHA-256 of a file read in chunks (never whole in memory); fails if it does not hold `bytes` bytes. */
async function hashFile(path: string, bytes: number): Promise<string> {
  const h = createHash('sha256')
  const fh = await open(path, 'r')
  let total = 0
  try {
    const chunk = Buffer.allocUnsafe(1 << 20)
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.byteLength, null)
      if (bytesRead === 0) break
      h.update(chunk.subarray(0, bytesRead))
      total += bytesRead
    }
  } finally {
    await fh.close()
  }
  return total === bytes ? h.digest('hex') : ''
}

/** A file that is there but cannot be read (EIO, EACCES): not damage to skip, an error that stops the start. */
function unreadable(folder: string, what: string, e: unknown): SluiceError {
  return new SluiceError('SLUICE_CHECKPOINT_IO', `cannot read ${what} in '${folder}' (${errnoOf(e)}): ${errorMessage(e)}`, {
    domain: 'external',
    retryable: true,
    cause: e,
    hint: 'check the permissions of the checkpoint folder and the disk',
  })
}
