import { join } from 'node:path'
import { userError } from '../../core/errors.ts'
import type { Source, SourceOptions, SourceReader } from '../../core/source.ts'
import { acquireLog } from '../log/shared-log.ts'
import { log as logSource } from '../log/source.ts'
import { otherSubtaskReader, takesIntake } from '../log/single-intake.ts'
import { IngestServer } from './ingest.ts'

/**
 * Options of `source.http`.
 * @example source.http({ port: 8080, path: '/events', auth: { token: process.env.INGEST_TOKEN } })
 */
export interface HttpSourceOptions<T> extends SourceOptions<T> {
  /** Port to listen on (0: any free one, see `onListen`). */
  port: number
  /** Interface to listen on. Default '127.0.0.1' (loopback only); '0.0.0.0' to take requests from other machines. */
  host?: string
  /** The one path that takes POSTs. Default '/'. */
  path?: string
  /** `{ token }`: every request must carry `Authorization: Bearer <token>` (401 otherwise). Default: no auth. */
  auth?: { token: string | undefined }
  /** Largest body taken, in bytes (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number
  /** Records accepted and not yet read by the pipeline beyond which requests get 429 with Retry-After. Default 100,000. */
  maxLag?: number
  /** The embedded log folder where accepted records are kept until the pipeline has read them. Default '.sluice/http-<port>'. */
  logDir?: string
  /** Called with the port once the server listens. */
  onListen?: (port: number) => void
}

const TOPIC = 'http-ingest'

/**
 * Takes records over HTTP: each POST of JSON (an object, or an array of them) or NDJSON is appended to a topic of
 * the embedded log and fsynced before it is answered 200 `{ "accepted": n }`; the pipeline reads the topic like
 * `source.log`. A crash after the answer loses nothing acknowledged, and with checkpoints every acknowledged record
 * reaches the output exactly once (the log offset is the checkpointed position; a client that gets no answer sends
 * again, which may store a request twice: give records an id to deduplicate on if that matters). When the pipeline
 * falls `maxLag` records behind, requests get 429 with `Retry-After: 1`; bodies over `maxBodyBytes` get 413, a
 * missing or wrong token 401, a body that does not parse 400 (nothing of it stored). Loopback only by default.
 * Without checkpoints the read position is committed when the source closes: at-least-once after a crash. One
 * port: at parallelism above 1, subtask 0 listens and reads, and the steps after a keyed exchange run on every subtask.
 * @example p.from(source.http({ port: 8080, path: '/events', auth: { token: process.env.INGEST_TOKEN } }))
 */
export function http<T = any>(options: HttpSourceOptions<T>): Source<T> {
  const { port } = options
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw userError('SLUICE_BAD_OPTION', 'source.http: port must be an integer from 0 to 65535')
  const path = options.path ?? '/'
  if (!path.startsWith('/')) throw userError('SLUICE_BAD_OPTION', "source.http: path must start with '/'")
  if (options.auth !== undefined && (typeof options.auth.token !== 'string' || options.auth.token === '')) {
    throw userError('SLUICE_BAD_OPTION', 'source.http: auth.token is empty', { hint: 'set the token (from an environment variable), or leave auth out for an open endpoint' })
  }
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20
  const maxLag = options.maxLag ?? 100_000
  for (const [name, v] of [['maxBodyBytes', maxBodyBytes], ['maxLag', maxLag]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw userError('SLUICE_BAD_OPTION', `source.http: ${name} must be a positive integer`)
  }
  const host = options.host ?? '127.0.0.1'
  const logDir = options.logDir ?? join('.sluice', `http-${port}`)
  const logOptions = { fsync: 'always' as const }
  // What the pipeline reads: the topic, as source.log reads it; the group keeps the position of runs without checkpoints.
  const inner = logSource<T>(logDir, TOPIC, { ...options, from: 'earliest', group: 'sluice-http', isolation: 'read_uncommitted', log: logOptions })
  return {
    kind: 'http',
    bounded: false,
    options,
    describe: () => ({ kind: 'http', host, port, path, auth: options.auth === undefined ? 'none' : 'bearer token', maxBodyBytes, maxLag, logDir }),
    async open(ctx): Promise<SourceReader<T>> {
      if (!takesIntake(ctx)) return otherSubtaskReader<T>() // one port: subtask 0 listens and reads
      const ref = await acquireLog(logDir, logOptions)
      try {
        if (!ref.log.listTopics().includes(TOPIC)) await ref.log.createTopic(TOPIC, { partitions: 1 })
        const reader = await inner.open(ctx)
        let read = 0
        const server: IngestServer = new IngestServer({ host, port, path, token: options.auth?.token, maxBodyBytes, maxLag, log: ref.log, topic: TOPIC, lag: (): number => Math.max(0, server.stats.accepted - read) })
        const bound = await server.listen()
        options.onListen?.(bound)
        return {
          partitions: reader.partitions,
          async read(partition, max) {
            const r = await reader.read(partition, max)
            if (r !== null && typeof r === 'object') read += r.values.length
            return r
          },
          positions: reader.positions?.bind(reader),
          seek: reader.seek?.bind(reader),
          onCheckpointComplete: reader.onCheckpointComplete?.bind(reader),
          bytesRead: () => server.stats.bytes,
          async close() {
            await server.close()
            await reader.close()
            await ref.release()
          },
        }
      } catch (e) {
        await ref.release()
        throw e
      }
    },
  }
}
