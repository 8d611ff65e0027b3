import { SluiceError, errorMessage } from '../core/errors.ts'
import { parseS3Url, type S3Connection } from '../checkpoint/s3-location.ts'
import type { SensorCheck } from './sensors.ts'
import type { TaskContext } from './task.ts'

/**
 * Holds once an object exists in an S3-compatible store: `url(ctx)` names it as `s3://bucket/key`, or, ending
 * with '/', a prefix under which any object will do (a folder that fills, a `_SUCCESS` marker's folder). The
 * store is reached as `conn` says, the environment filling the rest (`SLUICE_S3_ENDPOINT`, `AWS_ACCESS_KEY_ID`,
 * ...). An object that is not there yet keeps the sensor waiting; a store that cannot be asked (refused keys,
 * no such bucket, unreachable) fails the attempt, so the task's retry policy decides what follows.
 * @example objectExists(({ partition }) => `s3://landing/views/${partition}.jsonl`)
 */
export function objectExists(url: (ctx: TaskContext) => string, conn: S3Connection = {}): SensorCheck {
  return async (ctx) => {
    const target = url(ctx)
    const where = parseS3Url(target)
    const prefix = target.endsWith('/') || where.prefix === '' ? where.prefix : where.prefix.slice(0, -1)
    const [sdk, store] = await Promise.all([import('@aws-sdk/client-s3'), import('../checkpoint/object-store.ts')])
    const client = store.s3Client(conn)
    try {
      if (prefix === '' || prefix.endsWith('/')) {
        const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: where.bucket, Prefix: prefix, MaxKeys: 1 }), { abortSignal: ctx.signal })
        return (page.KeyCount ?? page.Contents?.length ?? 0) > 0
      }
      await client.send(new sdk.HeadObjectCommand({ Bucket: where.bucket, Key: prefix }), { abortSignal: ctx.signal })
      return true
    } catch (e) {
      if (store.isS3NotFound(e) && store.s3ErrorName(e) !== 'NoSuchBucket') return false
      if (ctx.signal.aborted) return false
      throw new SluiceError('SLUICE_WORKFLOW_SENSOR_FAILED', `sensor '${ctx.task}' could not look for '${target}': ${errorMessage(e)}`, {
        domain: 'external',
        retryable: true,
        step: ctx.task,
        position: ctx.partition,
        cause: e,
        hint: 'check the endpoint, that the bucket exists and that the keys may read it',
      })
    } finally {
      if (conn.client === undefined) client.destroy()
    }
  }
}
