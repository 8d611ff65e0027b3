import { DeleteObjectsCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import type { S3Connection } from './s3-location.ts'

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
