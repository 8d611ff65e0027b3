import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { SinkContext } from '../../core/sink.ts'
import { TwoPhaseCommit, type AbortScope, type Transactions } from '../../checkpoint/two-phase-commit.ts'
import { deleteKeys, isS3NotFound, listKeys, s3ErrorName } from '../../checkpoint/object-store.ts'

/** One transaction: a multipart upload of one object, its parts uploaded, not completed. */
export interface Upload {
  key: string
  uploadId: string
  parts: { n: number; etag: string }[]
}

/** Where the sink notes its open uploads (one empty object each), under its prefix. */
export const UPLOADS_DIR = '.sluice-uploads/'

/** The smallest part S3 takes (all but the last part of an upload). */
export const MIN_PART_BYTES = 5 * 1024 * 1024

export interface MultipartOptions {
  client: S3Client
  bucket: string
  /** '' or ending with '/'. */
  prefix: string
  /** Extension of the objects, without the dot. */
  ext: string
  contentType: string
  /** Bytes buffered before a part is uploaded; at least MIN_PART_BYTES. */
  partBytes: number
}

/**
 * Objects in a bucket written by two-phase commit, one writer per subtask; the transactions are multipart uploads:
 * - the first bytes after a checkpoint start an upload of `<prefix>part-<subtask>-<n>.<ext>`, where n is the
 *   checkpoint this writer last pre-committed (or restored) plus one, the first that can close it, and note it
 *   as an empty object `<prefix>.sluice-uploads/part-<subtask>-<n>.<ext>.<uploadId>`;
 * - parts are uploaded as the buffer fills; pre-commit at a barrier uploads the rest as the last part: the data
 *   is durable in the store, and invisible;
 * - commit completes the upload (an object that exists already means an earlier commit did it) and removes the note;
 * - abort, on restart, aborts the noted uploads of the old subtasks this one inherits and deletes their objects
 *   with n after the restored checkpoint (all of them on a fresh start).
 * Uploads are noted because listing them (ListMultipartUploads) is not offered by every S3-compatible server.
 * Servers without AbortMultipartUpload keep the aborted parts, never visible, until they clean up themselves;
 * on AWS a lifecycle rule `AbortIncompleteMultipartUpload` is the safety net.
 */
export class MultipartUploads implements Transactions<Upload> {
  private readonly o: MultipartOptions
  private readonly subtask: number
  private readonly step: string
  private readonly sink: string
  private current: Upload | undefined
  private chunks: Uint8Array[] = []
  private buffered = 0
  /** The last checkpoint this writer pre-committed (or restored): names the next upload. */
  private base = 0
  private writing: Promise<void> = Promise.resolve()
  private failure: unknown
  /** Bytes uploaded so far (the step's bytesOut metric). */
  bytesWritten = 0
  /** Requests the SDK sent again after a failure (throttling, a dropped connection). */
  retries = 0
  readonly tpc: TwoPhaseCommit<Upload>

  constructor(o: MultipartOptions, ctx: Pick<SinkContext, 'subtask' | 'parallelism' | 'stepId'>, sink: string) {
    this.o = o
    this.subtask = ctx.subtask
    this.step = ctx.stepId
    this.sink = sink
    this.tpc = new TwoPhaseCommit(this, ctx, sink)
  }

  /** Adds encoded bytes (the array must not be reused); uploads a part once enough is buffered (a promise then: backpressure). */
  write(data: Uint8Array): void | Promise<void> {
    this.fail()
    if (!this.tpc.recovered) return this.tpc.ensureRecovered().then(() => this.write(data))
    if (data.byteLength === 0) return
    this.chunks.push(data)
    this.buffered += data.byteLength
    if (this.buffered >= this.o.partBytes) return this.uploadPart()
  }

  /** Uploads what is buffered as the open upload's next part (in order with earlier parts). */
  private uploadPart(): Promise<void> {
    if (this.buffered === 0) return this.writing
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
    this.chunks = []
    this.buffered = 0
    this.writing = this.writing.then(async () => {
      this.fail()
      try {
        const up = (this.current ??= await this.start())
        const n = up.parts.length + 1
        const out = await this.send(new UploadPartCommand({ Bucket: this.o.bucket, Key: up.key, UploadId: up.uploadId, PartNumber: n, Body: body }))
        up.parts.push({ n, etag: out.ETag ?? '' })
        this.bytesWritten += body.byteLength
      } catch (e) {
        this.failure ??= e
        this.fail()
      }
    })
    return this.writing
  }

  private async start(): Promise<Upload> {
    const key = `${this.o.prefix}part-${this.subtask}-${this.base + 1}.${this.o.ext}`
    const out = await this.send(new CreateMultipartUploadCommand({ Bucket: this.o.bucket, Key: key, ContentType: this.o.contentType }))
    const uploadId = out.UploadId
    if (uploadId === undefined) throw new Error('the store answered without an upload id')
    await this.send(new PutObjectCommand({ Bucket: this.o.bucket, Key: this.noteKey(key, uploadId), Body: '' }))
    return { key, uploadId, parts: [] }
  }

  private noteKey(key: string, uploadId: string): string {
    return `${this.o.prefix}${UPLOADS_DIR}${key.slice(this.o.prefix.length)}.${uploadId}`
  }

  async preCommit(checkpointId: number): Promise<Upload | undefined> {
    await this.uploadPart()
    this.fail()
    const up = this.current
    this.current = undefined
    this.base = checkpointId
    return up
  }

  async commit(up: Upload): Promise<void> {
    await this.io('complete', up.key, async () => {
      try {
        await this.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.o.bucket,
            Key: up.key,
            UploadId: up.uploadId,
            MultipartUpload: { Parts: up.parts.map((p) => ({ PartNumber: p.n, ETag: p.etag })) },
          }),
        )
      } catch (e) {
        // Completed by an earlier commit of the same checkpoint (before a crash): the object is there.
        if (!(await this.exists(up.key))) {
          throw new SluiceError('SLUICE_SINK_COMMIT_FAILED', `${this.sink}: the pre-committed upload of '${up.key}' in bucket '${this.o.bucket}' could not be completed (${s3ErrorName(e) ?? 'error'}) and the object is not there`, {
            domain: 'external',
            step: this.step,
            cause: e,
            hint: 'something aborted the upload (a lifecycle rule shorter than the checkpoint interval?); the data of that checkpoint is lost',
          })
        }
      }
      await this.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: this.noteKey(up.key, up.uploadId) }))
    })
  }

  async abort(scope: AbortScope): Promise<void> {
    this.base = scope.after ?? 0
    const notes = this.o.prefix + UPLOADS_DIR
    const noted = /^part-(\d+)-(\d+)\.([^/]+)\.([^./]+)$/
    for (const note of await this.io('list', notes, () => listKeys(this.o.client, this.o.bucket, notes))) {
      const m = noted.exec(note.slice(notes.length))
      if (m === null || !scope.owns(Number(m[1]))) continue
      const key = `${this.o.prefix}part-${m[1]}-${m[2]}.${m[3]}`
      await this.io('abort the upload of', key, async () => {
        try {
          await this.send(new AbortMultipartUploadCommand({ Bucket: this.o.bucket, Key: key, UploadId: m[4] }))
        } catch (e) {
          // Gone already, or a server that cannot abort: its parts were never visible.
          const name = s3ErrorName(e)
          if (!isS3NotFound(e) && name !== 'MethodNotAllowed' && name !== 'NotImplemented') throw e
        }
        await this.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: note }))
      })
    }
    const after = scope.after ?? -Infinity
    const committed = new RegExp(`^part-(\\d+)-(\\d+)\\.${this.o.ext}$`)
    const doomed = (await this.io('list', this.o.prefix, () => listKeys(this.o.client, this.o.bucket, this.o.prefix))).filter((k) => {
      const m = committed.exec(k.slice(this.o.prefix.length))
      return m !== null && scope.owns(Number(m[1])) && Number(m[2]) > after
    })
    if (doomed.length > 0) await this.io('delete', this.o.prefix, () => deleteKeys(this.o.client, this.o.bucket, doomed))
  }

  check(txn: unknown): Upload {
    const u = txn as Upload | null
    const ok =
      typeof u === 'object' && u !== null && typeof u.key === 'string' && u.key.startsWith(this.o.prefix) && typeof u.uploadId === 'string' && u.uploadId !== '' &&
      Array.isArray(u.parts) && u.parts.every((p) => Number.isSafeInteger(p?.n) && typeof p.etag === 'string')
    if (!ok) throw new SluiceError('SLUICE_BAD_POSITION', `${this.sink}: a transaction in the checkpoint handle must be { key, uploadId, parts } under the sink's prefix`, { domain: 'internal', step: this.step })
    return u
  }

  /** Input ended: waits for the part uploads in flight. Bytes after the last checkpoint stay unwritten. */
  async close(): Promise<void> {
    await this.writing
    this.fail()
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key }))
      return true
    } catch (e) {
      if (isS3NotFound(e)) return false
      throw e
    }
  }

  /** Sends one command, counting the SDK's retries of it. */
  private async send<O extends { $metadata?: { attempts?: number } }>(command: { input: unknown; resolveMiddleware: unknown } & { readonly __out?: O }): Promise<O & { ETag?: string; UploadId?: string }> {
    const attempts = (x: unknown) => (x as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts ?? 1
    try {
      const out = (await this.o.client.send(command as never)) as O & { ETag?: string; UploadId?: string }
      this.retries += attempts(out) - 1
      return out
    } catch (e) {
      this.retries += attempts(e) - 1
      throw e
    }
  }

  private fail(): void {
    if (this.failure === undefined) return
    const f = this.failure
    if (f instanceof SluiceError) throw f
    throw new SluiceError('SLUICE_SINK_FAILED', `${this.sink}: cannot upload to bucket '${this.o.bucket}': ${errorMessage(f)}`, { domain: 'external', retryable: true, step: this.step, cause: f })
  }

  private async io<R>(doing: string, what: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn()
    } catch (e) {
      if (e instanceof SluiceError) throw e
      throw new SluiceError('SLUICE_SINK_FAILED', `${this.sink}: cannot ${doing} '${what}' in bucket '${this.o.bucket}': ${errorMessage(e)}`, { domain: 'external', retryable: true, step: this.step, cause: e })
    }
  }
}
