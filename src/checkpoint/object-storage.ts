import { mkdirSync, rmSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import { SluiceError, errorMessage } from '../core/errors.ts'
import { failpoint } from '../core/failpoints.ts'
import { decodeManifest, encodeManifest, type Manifest } from './manifest.ts'
import { putStateFiles } from './object-savepoint.ts'
import { isS3Url, parseS3Url, type S3Connection, type S3Location } from './s3-location.ts'
import { CheckpointStorage, referencedCheckpoints, sha256, type CheckpointRead, type StateFileOut } from './storage.ts'

const PREFIX = 'chk-'
const pad = (id: number) => String(id).padStart(8, '0')
const MANIFEST = 'manifest.json'

/**
 * Checkpoints in an S3-compatible bucket, for `--checkpoint-dir s3://bucket/prefix`: checkpoint 7 is the objects
 * `<prefix>chk-00000007/<state file>` and, written last, `<prefix>chk-00000007/manifest.json`. A PUT is atomic,
 * so a checkpoint is complete once its manifest is there; state files without a manifest (a write that failed or
 * was killed) are removed when newer checkpoints are retained. State files are encoded into a local staging
 * folder first (under the system's temporary folder), then uploaded. The store is reached as S3Connection says
 * (endpoint and keys from the environment: `SLUICE_S3_ENDPOINT` or `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, ...).
 * There is no lock: two jobs must not share a prefix.
 *
 * Several machines: a worker process other than the coordinator's (the Kafka runner's threads 1..n-1) stages
 * its own state files in its own folder on its machine (`ownStagingFolder`), uploads them itself (`upload`)
 * before it acknowledges the barrier, and keeps its copies; the coordinator writes the manifest last.
 *
 * Local recovery: the state files of each checkpoint this machine wrote stay in a local folder (`local`,
 * `<local>/chk-00000007/`) after their upload. A restore on the same machine takes each file from there when its
 * size and SHA-256 match the manifest (read from the bucket, the one object a restore then reads), and from the
 * bucket otherwise (another machine, a damaged or removed copy). Retention removes local copies with their
 * checkpoints. `lastRead` tells where the files of the last read came from.
 * @example const storage = new ObjectCheckpointStorage('s3://state/orders'); const latest = await storage.latest()
 */
export class ObjectCheckpointStorage extends CheckpointStorage {
  private readonly where: S3Location
  private readonly conn: S3Connection
  private readonly staging: string
  /** The local copies' folder (also where files are staged), or undefined without local recovery. */
  readonly local: string | undefined
  private readonly failures = new Map<number, unknown>()
  private client_: Promise<S3Client> | undefined
  /** Where the state files of the last `read` came from: this machine's copies or the bucket. */
  lastRead: { localFiles: number; localBytes: number; remoteFiles: number; remoteBytes: number } = { localFiles: 0, localBytes: 0, remoteFiles: 0, remoteBytes: 0 }

  /**
   * `local`: the folder of local copies (default: `sluice-local-recovery-<hash of url>` in the system's
   * temporary folder, the same for every run of this URL on this machine); false for none.
   */
  constructor(url: string, conn: S3Connection = {}, local?: string | false) {
    super(url)
    this.where = parseS3Url(url)
    this.conn = conn
    const id = sha256(Buffer.from(url)).slice(0, 12)
    this.local = local === false ? undefined : (local ?? join(tmpdir(), `sluice-local-recovery-${id}`))
    // Staged beside the local copies, so that a written checkpoint's files become its local copy by a rename.
    this.staging = this.local ?? join(tmpdir(), `sluice-checkpoint-staging-${process.pid}-${id}`)
  }

  private client(): Promise<S3Client> {
    this.client_ ??= import('./object-store.ts').then((m) => m.s3Client(this.conn))
    return this.client_
  }

  private key(id: number, name: string): string {
    return `${this.where.prefix}${PREFIX}${pad(id)}/${name}`
  }

  /** No lock in object storage (see the class). */
  override async lock(): Promise<void> {}

  override async release(): Promise<void> {
    const c = await this.client_
    c?.destroy()
    this.client_ = undefined
  }

  override stagingFolder(id: number): string {
    return join(this.staging, PREFIX + pad(id) + '.staging.tmp')
  }

  override openStaging(id: number): string {
    const folder = this.stagingFolder(id)
    try {
      rmSync(folder, { recursive: true, force: true })
      mkdirSync(folder, { recursive: true })
    } catch (e) {
      this.failures.set(id, e)
    }
    return folder
  }

  /**
   * Where this process stages the state files it writes for checkpoint `id` when another process (on this
   * machine or another) coordinates the checkpoint: a folder of its own, beside the local copies.
   */
  ownStagingFolder(id: number): string {
    return join(this.staging, `${PREFIX}${pad(id)}.staging-${process.pid}.tmp`)
  }

  /**
   * Uploads state files of checkpoint `id` staged in `folder` (by a process that does not write the manifest),
   * then keeps them as this machine's copies. Throws SLUICE_CHECKPOINT_WRITE_FAILED when an upload fails.
   */
  async upload(id: number, folder: string, files: readonly { name: string; bytes: number }[]): Promise<number> {
    let bytes = 0
    try {
      bytes = await putStateFiles(await this.client(), this.where.bucket, this.key(id, ''), files.map((f) => ({ name: f.name, path: join(folder, f.name), bytes: f.bytes })))
    } catch (e) {
      throw new SluiceError('SLUICE_CHECKPOINT_WRITE_FAILED', `could not upload state files to '${this.dir}/${PREFIX}${pad(id)}': ${errorMessage(e)}`, {
        domain: 'external',
        retryable: true,
        cause: e,
        hint: 'check that the bucket exists and the keys may write to it',
      })
    }
    await this.keepLocal(id, folder, files.map((f) => f.name))
    return bytes
  }

  override async write(manifest: Manifest, files: StateFileOut[]): Promise<number> {
    const folder = `${this.dir}/${PREFIX}${pad(manifest.id)}`
    const staged = this.failures.get(manifest.id)
    this.failures.delete(manifest.id)
    let bytes = 0
    try {
      if (staged !== undefined) throw staged
      const { PutObjectCommand } = await import('@aws-sdk/client-s3')
      const client = await this.client()
      bytes += await putStateFiles(client, this.where.bucket, this.key(manifest.id, ''), files)
      // The local copy is kept before the manifest makes the checkpoint complete: a process killed in between
      // leaves no complete checkpoint without its copy on the machine that wrote it.
      await this.keepData(manifest.id, files)
      await this.keepLocal(manifest.id, this.stagingFolder(manifest.id), files.map((f) => f.name))
      const m = encodeManifest(manifest)
      failpoint('checkpoint-before-rename')
      await client.send(new PutObjectCommand({ Bucket: this.where.bucket, Key: this.key(manifest.id, MANIFEST), Body: m, ContentType: 'application/json' }))
      bytes += Buffer.byteLength(m)
    } catch (e) {
      if (e instanceof SluiceError) throw e
      throw new SluiceError('SLUICE_CHECKPOINT_WRITE_FAILED', `could not write '${folder}': ${errorMessage(e)}`, {
        domain: 'external',
        retryable: true,
        cause: e,
        hint: 'check that the bucket exists and the keys may write to it',
      })
    } finally {
      await rm(this.stagingFolder(manifest.id), { recursive: true, force: true }).catch(() => undefined)
    }
    return bytes
  }

  /** Files given as bytes are staged like the others, for `keepLocal` to move. */
  private async keepData(id: number, files: StateFileOut[]): Promise<void> {
    if (this.local === undefined || !files.some((f) => 'data' in f)) return
    try {
      await mkdir(this.stagingFolder(id), { recursive: true })
      for (const f of files) if ('data' in f) await writeFile(join(this.stagingFolder(id), f.name), f.data)
    } catch {
      // No copy of these: a restore reads them from the bucket.
    }
  }

  /**
   * Keeps state files `names` of checkpoint `id`, staged in `folder`, as this machine's copies: moved into
   * `<local>/chk-…/`, beside the copies other processes of this machine wrote for the same checkpoint (without
   * local recovery, removed). A failure costs only local recovery (a restore then reads the bucket), never the
   * checkpoint.
   */
  private async keepLocal(id: number, folder: string, names: readonly string[]): Promise<void> {
    if (this.local === undefined) {
      for (const n of names) await rm(join(folder, n), { force: true }).catch(() => undefined)
      return
    }
    const copies = join(this.local, PREFIX + pad(id))
    try {
      await mkdir(copies, { recursive: true })
      for (const n of names) await rename(join(folder, n), join(copies, n))
    } catch {
      for (const n of names) await rm(join(copies, n), { force: true }).catch(() => undefined)
    }
  }

  /** This machine's copy of state file `name` of checkpoint `id` when it matches `bytes` and `digest`. */
  private async localCopy(id: number, name: string, bytes: number, digest: string): Promise<Uint8Array | undefined> {
    if (this.local === undefined) return undefined
    let data: Uint8Array
    try {
      data = await readFile(join(this.local, PREFIX + pad(id), name))
    } catch {
      return undefined
    }
    return data.byteLength === bytes && sha256(data) === digest ? data : undefined
  }

  override async ids(): Promise<number[]> {
    return [...(await this.folders()).entries()].filter(([, f]) => f.complete).map(([id]) => id).sort((a, b) => b - a)
  }

  override async read(id: number): Promise<CheckpointRead> {
    const folder = `${this.dir}/${PREFIX}${pad(id)}`
    const text = await this.get(id, MANIFEST, folder)
    if (text === undefined) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `no manifest in '${folder}'`, { domain: 'external' })
    const manifest = decodeManifest(Buffer.from(text).toString('utf8'), folder)
    const files = new Map<string, Uint8Array>()
    const stats = { localFiles: 0, localBytes: 0, remoteFiles: 0, remoteBytes: 0 }
    this.lastRead = stats
    for (const op of manifest.operators) {
      for (const f of op.files) {
        const from = f.checkpoint ?? manifest.id
        const local = await this.localCopy(from, f.file, f.bytes, f.sha256)
        if (local !== undefined) {
          files.set(`${from}/${f.file}`, local)
          stats.localFiles++
          stats.localBytes += local.byteLength
          continue
        }
        const data = await this.get(from, f.file, folder)
        if (data !== undefined) {
          stats.remoteFiles++
          stats.remoteBytes += data.byteLength
        }
        if (data === undefined) {
          throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${f.file}' of step '${op.step}' is missing in '${this.dir}/${PREFIX}${pad(from)}'${from === manifest.id ? '' : ` (checkpoint ${manifest.id} builds on it)`}`, { domain: 'external' })
        }
        if (data.byteLength !== f.bytes || sha256(data) !== f.sha256) {
          throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${f.file}' of step '${op.step}' in '${this.dir}/${PREFIX}${pad(from)}' does not match its checksum`, { domain: 'external' })
        }
        files.set(`${from}/${f.file}`, data)
      }
    }
    return { manifest, file: (f) => files.get(`${f.checkpoint ?? manifest.id}/${f.file}`)! }
  }

  override async retain(keep: number): Promise<void> {
    const { folders, kept, newest } = await this.retained(keep)
    const doomed: string[] = []
    for (const [id, f] of folders) {
      if (kept.has(id) || (!f.complete && id >= newest)) continue
      doomed.push(...f.keys)
    }
    // The manifest goes first: a checkpoint half removed is then incomplete, never damaged.
    doomed.sort((a, b) => Number(b.endsWith('/' + MANIFEST)) - Number(a.endsWith('/' + MANIFEST)))
    if (doomed.length > 0) {
      const { deleteKeys } = await import('./object-store.ts')
      const manifests = doomed.filter((k) => k.endsWith('/' + MANIFEST))
      await this.io('remove old checkpoints in', async (c) => {
        await deleteKeys(c, this.where.bucket, manifests)
        failpoint('checkpoint-retain')
        await deleteKeys(c, this.where.bucket, doomed.filter((k) => !k.endsWith('/' + MANIFEST)))
      })
    }
    await this.retainLocal(kept, newest)
  }

  /**
   * What `retain(keep)` keeps of this machine's copies, without removing anything from the bucket: for a
   * process that wrote copies but does not coordinate the checkpoints.
   */
  async retainLocalCopies(keep: number): Promise<void> {
    const { kept, newest } = await this.retained(keep)
    await this.retainLocal(kept, newest)
  }

  /** The checkpoints under the prefix, those `retain(keep)` keeps, and the newest complete one (0 if none). */
  private async retained(keep: number): Promise<{ folders: Map<number, { complete: boolean; keys: string[] }>; kept: Set<number>; newest: number }> {
    const folders = await this.folders()
    const complete = [...folders.entries()].filter(([, f]) => f.complete).map(([id]) => id).sort((a, b) => b - a)
    const kept = new Set(complete.slice(0, keep))
    for (const id of complete.slice(0, keep)) {
      const text = await this.get(id, MANIFEST, this.dir).catch(() => undefined)
      try {
        if (text !== undefined) for (const ref of referencedCheckpoints(JSON.parse(Buffer.from(text).toString('utf8')) as Manifest)) kept.add(ref)
      } catch {
        // A manifest that does not parse keeps nothing more (retention errs on keeping what is listed).
      }
    }
    // Folders without a manifest older than the newest complete one are failed attempts; newer ones may be in flight.
    return { folders, kept, newest: complete[0] ?? 0 }
  }

  /**
   * Removes local copies of checkpoints up to `newest` not `kept`, and staging folders (every process's) of
   * checkpoints up to `newest` (failed attempts, or emptied by their upload).
   */
  private async retainLocal(kept: Set<number>, newest: number): Promise<void> {
    let names: string[]
    try {
      names = await readdir(this.staging)
    } catch {
      return
    }
    for (const n of names) {
      const m = /^chk-(\d+)(\.staging(?:-\d+)?\.tmp)?$/.exec(n)
      if (m === null) continue
      const id = Number(m[1])
      // Copies newer than the newest complete checkpoint belong to one being written.
      if (id <= newest && (m[2] !== undefined || !kept.has(id))) await rm(join(this.staging, n), { recursive: true, force: true }).catch(() => undefined)
    }
    // Without local recovery the folder is this process's alone: gone once empty.
    if (this.local === undefined) await rmdir(this.staging).catch(() => undefined)
  }

  /** The checkpoint folders under the prefix: their keys, and whether the manifest is there. */
  private async folders(): Promise<Map<number, { complete: boolean; keys: string[] }>> {
    const { listKeys } = await import('./object-store.ts')
    const keys = await this.io('list', (c) => listKeys(c, this.where.bucket, this.where.prefix + PREFIX), 'SLUICE_CHECKPOINT_UNLISTABLE')
    const out = new Map<number, { complete: boolean; keys: string[] }>()
    const re = /^chk-(\d+)\/(.+)$/
    for (const k of keys) {
      const m = re.exec(k.slice(this.where.prefix.length))
      if (m === null) continue
      const id = Number(m[1])
      const f = out.get(id) ?? { complete: false, keys: [] }
      f.keys.push(k)
      if (m[2] === MANIFEST) f.complete = true
      out.set(id, f)
    }
    return out
  }

  /** The object `name` of checkpoint `id`, or undefined if it is not there. */
  private async get(id: number, name: string, folder: string): Promise<Uint8Array | undefined> {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3')
    const { isS3NotFound } = await import('./object-store.ts')
    const c = await this.client()
    try {
      const out = await c.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(id, name) }))
      return await out.Body!.transformToByteArray()
    } catch (e) {
      if (isS3NotFound(e)) return undefined
      throw new SluiceError('SLUICE_CHECKPOINT_IO', `cannot read '${name}' in '${folder}': ${errorMessage(e)}`, {
        domain: 'external',
        retryable: true,
        cause: e,
        hint: 'check the connection to the object store and that the keys may read the bucket',
      })
    }
  }

  private async io<R>(doing: string, fn: (c: S3Client) => Promise<R>, code: 'SLUICE_CHECKPOINT_WRITE_FAILED' | 'SLUICE_CHECKPOINT_UNLISTABLE' = 'SLUICE_CHECKPOINT_WRITE_FAILED'): Promise<R> {
    try {
      return await fn(await this.client())
    } catch (e) {
      if (e instanceof SluiceError) throw e
      throw new SluiceError(code, `cannot ${doing} '${this.dir}': ${errorMessage(e)}`, {
        domain: 'external',
        retryable: true,
        cause: e,
        hint: code === 'SLUICE_CHECKPOINT_UNLISTABLE' ? 'the job does not start without knowing which checkpoints the bucket holds: check the endpoint, the bucket and the keys' : 'check the connection to the object store and the keys\' rights',
      })
    }
  }
}

/**
 * The storage for a `--checkpoint-dir`: a local folder, or a bucket for `s3://bucket/prefix` (with local copies
 * in `local`, see ObjectCheckpointStorage).
 * @example const storage = checkpointStorageFor('s3://state/orders')
 */
export function checkpointStorageFor(dir: string, local?: string | false): CheckpointStorage {
  return isS3Url(dir) ? new ObjectCheckpointStorage(dir, {}, local) : new CheckpointStorage(dir)
}
