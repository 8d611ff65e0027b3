// Savepoints (and single checkpoints) addressed as an `s3://bucket/prefix` of their own: the objects
// `<prefix>/<state file>` and, written last, `<prefix>/manifest.json`, as a savepoint folder holds them.
import { open } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import { SluiceError, errorMessage } from '../core/errors.ts'
import { decodeManifest, encodeManifest, type Manifest } from './manifest.ts'
import { parseS3Url, type S3Connection } from './s3-location.ts'
import { sha256, type CheckpointRead, type StateFileOut } from './storage.ts'

const MANIFEST = 'manifest.json'
const pad = (id: number) => String(id).padStart(8, '0')

/**
 * Where the state files of a savepoint into `url` are encoded before their upload (on this machine): a folder
 * of this process, `<prefix><pid>.staging.tmp`, or `<prefix><pid>-<id>.staging.tmp` for savepoint `id` of a
 * worker that uploads its own (see OwnSavepointFiles).
 */
export function objectSavepointStaging(url: string, id?: number): string {
  return join(tmpdir(), `${savepointStagingPrefix(url)}${process.pid}${id === undefined ? '' : `-${id}`}.staging.tmp`)
}

/** The start of the names of every process's staging folders for savepoints into `url`, before the pid. */
export function savepointStagingPrefix(url: string): string {
  return `sluice-savepoint-${createHash('sha256').update(url).digest('hex').slice(0, 12)}-`
}

/** Files up to this size go in one PUT; larger ones in parts of this size (S3 takes parts from 5 MiB). */
const PART_BYTES = 8 * 1024 * 1024

/**
 * Uploads state files under `prefix` (`<prefix><name>`), one at a time, each read from its staged file in
 * parts of at most `partBytes` (a multipart upload beyond that): a savepoint of any size needs no more
 * memory than one part. Bodies are buffers, never streams, which some S3-compatible servers would store
 * with the SDK's chunk framing. Returns the bytes sent.
 */
export async function putStateFiles(client: S3Client, bucket: string, prefix: string, files: readonly StateFileOut[], partBytes = PART_BYTES): Promise<number> {
  const { PutObjectCommand } = await import('@aws-sdk/client-s3')
  let bytes = 0
  for (const f of files) {
    if ('error' in f && f.error !== undefined) throw f.error
    if ('data' in f) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + f.name, Body: f.data }))
      bytes += f.data.byteLength
    } else {
      await putFile(client, bucket, prefix + f.name, f.path, f.bytes, partBytes)
      bytes += f.bytes
    }
  }
  return bytes
}

async function putFile(client: S3Client, Bucket: string, Key: string, path: string, bytes: number, partBytes: number): Promise<void> {
  const s3 = await import('@aws-sdk/client-s3')
  const fh = await open(path, 'r')
  try {
    const read = async (at: number, n: number): Promise<Buffer> => {
      const buf = Buffer.allocUnsafe(n)
      const { bytesRead } = await fh.read(buf, 0, n, at)
      if (bytesRead !== n) throw new Error(`'${path}' holds fewer bytes than were written to it`)
      return buf
    }
    if (bytes <= partBytes) {
      await client.send(new s3.PutObjectCommand({ Bucket, Key, Body: await read(0, bytes) }))
      return
    }
    const { UploadId } = await client.send(new s3.CreateMultipartUploadCommand({ Bucket, Key }))
    try {
      const Parts: { ETag: string | undefined; PartNumber: number }[] = []
      for (let at = 0, PartNumber = 1; at < bytes; at += partBytes, PartNumber++) {
        const { ETag } = await client.send(new s3.UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: await read(at, Math.min(partBytes, bytes - at)) }))
        Parts.push({ ETag, PartNumber })
      }
      await client.send(new s3.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }))
    } catch (e) {
      await client.send(new s3.AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined)
      throw e
    }
  } finally {
    await fh.close()
  }
}

/** Whether `url` holds a complete savepoint or checkpoint (its manifest). */
export async function objectSavepointExists(url: string, conn: S3Connection = {}): Promise<boolean> {
  return (await withClient(url, conn, 'look for a savepoint in', (c, bucket, prefix) => getObject(c, bucket, prefix + MANIFEST))) !== undefined
}

/**
 * Writes a savepoint to `url`: its state files, then its manifest, so that it is complete once the manifest
 * is there. Refuses a prefix that holds a manifest already. Returns the bytes written.
 * @example await writeObjectSavepoint('s3://state/savepoints/before-upgrade', manifest, files)
 */
export async function writeObjectSavepoint(url: string, manifest: Manifest, files: readonly StateFileOut[], conn: S3Connection = {}): Promise<number> {
  return withClient(url, conn, 'write the savepoint', async (c, bucket, prefix) => {
    await refuseExisting(c, bucket, prefix, url)
    let bytes = await putStateFiles(c, bucket, prefix, files)
    const { PutObjectCommand } = await import('@aws-sdk/client-s3')
    const m = encodeManifest(manifest)
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + MANIFEST, Body: m, ContentType: 'application/json' }))
    bytes += Buffer.byteLength(m)
    return bytes
  })
}

/**
 * Uploads some of a savepoint's state files to `url` before its manifest is written (by another process: the
 * state files of the Kafka runner's threads on other machines). Refuses a prefix that holds a manifest
 * already, so a complete savepoint is never overwritten. Returns the bytes written.
 * @example await putSavepointFiles('s3://state/savepoints/before-upgrade', [{ name: 'totals.1.0.state', path, bytes }])
 */
export async function putSavepointFiles(url: string, files: readonly StateFileOut[], conn: S3Connection = {}): Promise<number> {
  return withClient(url, conn, 'upload state files to the savepoint', async (c, bucket, prefix) => {
    await refuseExisting(c, bucket, prefix, url)
    return putStateFiles(c, bucket, prefix, files)
  })
}

async function refuseExisting(c: S3Client, bucket: string, prefix: string, url: string): Promise<void> {
  if ((await getObject(c, bucket, prefix + MANIFEST)) !== undefined) {
    throw new SluiceError('SLUICE_SAVEPOINT_EXISTS', `savepoint '${url}' already exists`, { hint: 'choose a new prefix for each savepoint' })
  }
}

/**
 * Reads the savepoint (or the checkpoint `.../chk-00000007`) at `url` and checks every file against the
 * manifest's checksums; files of earlier checkpoints that a checkpoint builds on are read beside it.
 * @example const read = await readObjectSavepoint('s3://state/savepoints/before-upgrade')
 */
export async function readObjectSavepoint(url: string, conn: S3Connection = {}): Promise<CheckpointRead> {
  return withClient(url, conn, 'read the savepoint', async (c, bucket, prefix) => {
    const text = await getObject(c, bucket, prefix + MANIFEST)
    if (text === undefined) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `no manifest in '${url}'`, { domain: 'external', hint: 'give the prefix a savepoint was written to, or a chk-… prefix' })
    const manifest = decodeManifest(Buffer.from(text).toString('utf8'), url)
    const parent = prefix.slice(0, prefix.slice(0, -1).lastIndexOf('/') + 1)
    const files = new Map<string, Uint8Array>()
    for (const op of manifest.operators) {
      for (const f of op.files) {
        const own = f.checkpoint === undefined || f.checkpoint === manifest.id
        const where = own ? prefix : `${parent}chk-${pad(f.checkpoint!)}/`
        const data = await getObject(c, bucket, where + f.file)
        if (data === undefined) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${f.file}' of step '${op.step}' is missing in 's3://${bucket}/${where}'`, { domain: 'external' })
        if (data.byteLength !== f.bytes || sha256(data) !== f.sha256) {
          throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `state file '${f.file}' of step '${op.step}' in 's3://${bucket}/${where}' does not match its checksum`, { domain: 'external' })
        }
        files.set(`${f.checkpoint ?? manifest.id}/${f.file}`, data)
      }
    }
    return { manifest, file: (f) => files.get(`${f.checkpoint ?? manifest.id}/${f.file}`)! }
  })
}

async function getObject(c: S3Client, bucket: string, key: string): Promise<Uint8Array | undefined> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3')
  const { isS3NotFound } = await import('./object-store.ts')
  try {
    const out = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    return await out.Body!.transformToByteArray()
  } catch (e) {
    if (isS3NotFound(e)) return undefined
    throw e
  }
}

async function withClient<R>(url: string, conn: S3Connection, doing: string, fn: (c: S3Client, bucket: string, prefix: string) => Promise<R>): Promise<R> {
  const { bucket, prefix } = parseS3Url(url)
  const { s3Client } = await import('./object-store.ts')
  const c = s3Client(conn)
  try {
    return await fn(c, bucket, prefix)
  } catch (e) {
    if (e instanceof SluiceError) throw e
    throw new SluiceError('SLUICE_CHECKPOINT_IO', `cannot ${doing} '${url}': ${errorMessage(e)}`, {
      domain: 'external',
      retryable: true,
      cause: e,
      hint: 'check the endpoint and the keys (SLUICE_S3_ENDPOINT, AWS_*) and that the bucket exists',
    })
  } finally {
    if (conn.client === undefined) c.destroy()
  }
}
