import { DeleteObjectsCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { SluiceError } from '../core/errors.ts'

/**
 * How to reach an S3-compatible object store. Every field falls back to the environment: `endpoint` to
 * `SLUICE_S3_ENDPOINT`, `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (none: AWS itself), `region` to `AWS_REGION`
 * (default 'us-east-1'), the keys to the AWS SDK's usual chain (`AWS_ACCESS_KEY_ID`, profiles, roles).
 * @example const conn: S3Connection = { endpoint: 'http://127.0.0.1:9000', accessKeyId: 'key', secretAccessKey: 'secret' }
 */
export interface S3Connection {
  /** The server's URL, for an S3-compatible store other than AWS (MinIO, a local test server). */
  endpoint?: string
  region?: string
  accessKeyId?: string
  secretAccessKey?: string
  /** Buckets in the path (`host/bucket/key`) rather than the host name. Default: true when an endpoint is set. */
  forcePathStyle?: boolean
  /** A client made elsewhere: the other fields are then ignored. */
  client?: S3Client
}

/**
 * A client for `conn`, with the environment filling what it leaves out (see S3Connection).
 * @example const client = s3Client({ endpoint: process.env.S3_URL })
 */
export function s3Client(conn: S3Connection = {}): S3Client {
  if (conn.client !== undefined) return conn.client
  const env = process.env
  const endpoint = conn.endpoint ?? env.SLUICE_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL
  const config: S3ClientConfig = {
    region: conn.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: conn.forcePathStyle ?? endpoint !== undefined,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(conn.accessKeyId !== undefined && conn.secretAccessKey !== undefined ? { credentials: { accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey } } : {}),
  }
  return new S3Client(config)
}

/** A bucket and a key prefix, from `s3://bucket/prefix`. */
export interface S3Location {
  bucket: string
  /** Empty, or ends with '/'. */
  prefix: string
}

/** Whether `dir` names a place in object storage (`s3://bucket/prefix`) rather than a local folder. */
export function isS3Url(dir: string): boolean {
  return dir.startsWith('s3://')
}

/**
 * The bucket and prefix of `s3://bucket/prefix`.
 * @example parseS3Url('s3://data/chk/orders') // { bucket: 'data', prefix: 'chk/orders/' }
 */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url)
  if (m === null) {
    throw new SluiceError('SLUICE_BAD_OPTION', `'${url}' is not an object storage location`, { domain: 'user', hint: 'write it as s3://bucket/prefix, with a bucket name of lowercase letters, digits, dots and dashes' })
  }
  return { bucket: m[1], prefix: folderPrefix(m[2] ?? '') }
}

/** A key prefix that works as a folder: '' or ending with '/'. */
export function folderPrefix(prefix: string): string {
  const p = prefix.replace(/^\/+/, '')
  return p === '' || p.endsWith('/') ? p : p + '/'
}

/** The name of an AWS SDK error (`NoSuchKey`, `NoSuchUpload`, ...), or undefined. */
export function s3ErrorName(e: unknown): string | undefined {
  const name = (e as { name?: unknown } | null)?.name
  return typeof name === 'string' ? name : undefined
}

/** True for an answer that says the object or upload is not there. */
export function isS3NotFound(e: unknown): boolean {
  const status = (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode
  const name = s3ErrorName(e)
  return status === 404 || name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchUpload'
}

/** Every key under `prefix` in `bucket`, in key order (all pages). */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token !== undefined ? { ContinuationToken: token } : {}) }))
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key)
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  return keys
}

/** Deletes `keys` from `bucket`, a thousand at a time (the most one request takes). */
export async function deleteKeys(client: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const out = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }))
    const failed = out.Errors ?? []
    if (failed.length > 0) throw new Error(`could not delete ${failed.length} object(s), the first '${failed[0].Key}': ${failed[0].Code} ${failed[0].Message ?? ''}`)
  }
}
