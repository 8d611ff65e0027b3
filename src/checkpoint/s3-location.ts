// Where objects live and how to reach the store, without loading the AWS SDK (object-store.ts does that).
import { SluiceError } from '../core/errors.ts'
import type { S3Client } from '@aws-sdk/client-s3'

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
