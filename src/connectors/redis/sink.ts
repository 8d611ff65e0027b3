import type { Redis } from 'ioredis'
import { DELETE, UPDATE_BEFORE, type Batch } from '../../core/batch.ts'
import { parseDuration, type Duration } from '../../core/duration.ts'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { Sink, SinkWriter } from '../../core/sink.ts'
import { redactRedis, redisClient } from './client.ts'

/**
 * Options of `sink.redis`: what each record becomes. `type: 'string'` sets `key` to `value` (a string, or
 * JSON of anything else); `'hash'` replaces the hash at `key` with `fields` (default: the record's own
 * fields); `'zset'` adds `member` with `score` to the sorted set at `key`.
 * @example sink.redis<{ user: string; points: number }>({ url, type: 'zset', key: () => 'leaders', member: (r) => r.user, score: (r) => r.points })
 */
export interface RedisSinkOptions<T> {
  url: string
  type: 'string' | 'hash' | 'zset'
  /** The Redis key of a record. */
  key: (v: T) => string
  /** `string`: the value to set (default: the record as JSON). */
  value?: (v: T) => unknown
  /** `hash`: the fields to write (default: the record's own fields; non-string values as JSON). */
  fields?: (v: T) => Record<string, unknown>
  /** `zset`: the member and its score. */
  member?: (v: T) => string
  score?: (v: T) => number
  /** Keys expire this long after their last write ('10m', or ms). */
  ttl?: Duration
}

/**
 * Writes records to Redis through ioredis, one pipeline of commands per batch (the next batch waits for it:
 * backpressure). Writes are idempotent by key: SET, hash replaced whole (DEL + HSET), ZADD, with PEXPIRE for
 * `ttl`; a replay after a restore writes the same keys to the same values, so the effect is exactly-once
 * for a deterministic pipeline, with or without checkpoints. Changelog retractions delete: -U/-D remove the
 * key (`string`, `hash`) or the member (`zset`), and the +U that follows writes it again.
 * @example .to(sink.redis({ url: 'redis://127.0.0.1:6379', type: 'hash', key: (u) => `user:${u.id}` }))
 */
export function redis<T>(options: RedisSinkOptions<T>): Sink<T> {
  const o = options ?? ({} as RedisSinkOptions<T>)
  if (typeof o.url !== 'string' || o.url === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'sink.redis needs a url (redis://host:port)')
  if (!['string', 'hash', 'zset'].includes(o.type)) throw new SluiceError('SLUICE_BAD_OPTION', "sink.redis: type must be 'string', 'hash' or 'zset'")
  if (typeof o.key !== 'function') throw new SluiceError('SLUICE_BAD_OPTION', 'sink.redis needs key: (record) => string')
  if (o.type === 'zset' && (typeof o.member !== 'function' || typeof o.score !== 'function')) {
    throw new SluiceError('SLUICE_BAD_OPTION', "sink.redis: type 'zset' needs member and score functions")
  }
  const ttl = o.ttl === undefined ? undefined : parseDuration(o.ttl, 'sink.redis ttl')
  return {
    kind: 'redis',
    guarantee: 'exactly-once',
    describe: () => ({ kind: 'redis', url: redactRedis(o.url), type: o.type, ...(ttl === undefined ? {} : { ttlMs: ttl }), commit: 'idempotent writes by key, one pipeline per batch' }),
    open: (ctx) => new RedisWriter(o, ttl, ctx.stepId, `sluice:${ctx.pipeline}/${ctx.stepId}`.replace(/\s/g, '_')),
  }
}

const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)))

class RedisWriter<T> implements SinkWriter<T> {
  private readonly o: RedisSinkOptions<T>
  private readonly ttl: number | undefined
  private readonly step: string
  private readonly client: Redis
  /** Bytes of the keys, values, fields and members written (the step's bytesOut metric). */
  private bytes = 0
  /** Connections made again after one was lost: ioredis sends the commands then unanswered again on it. */
  private reconnects = 0

  constructor(o: RedisSinkOptions<T>, ttl: number | undefined, step: string, name: string) {
    this.o = o
    this.ttl = ttl
    this.step = step
    this.client = redisClient(o.url, name)
    this.client.on('error', () => undefined) // a command fails with it; the write reports it
    this.client.on('reconnecting', () => this.reconnects++)
  }

  write(batch: Batch<T>): Promise<void> | void {
    const { values, kinds } = batch
    if (values.length === 0) return
    const p = this.client.pipeline()
    const { type, ttl } = { type: this.o.type, ttl: this.ttl }
    let bytes = 0
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      const kind = kinds === undefined ? 0 : kinds[i]
      let key: string
      try {
        key = this.o.key(v)
      } catch (e) {
        const position = batch.pos?.[i]
        throw new SluiceError('SLUICE_SINK_FAILED', `sink.redis: the key function failed: ${errorMessage(e)}`, { domain: 'user', step: this.step, cause: e, ...(position === undefined ? {} : { position }) })
      }
      const retract = kind === UPDATE_BEFORE || kind === DELETE
      bytes += Buffer.byteLength(key)
      if (type === 'zset') {
        const member = this.o.member!(v)
        bytes += Buffer.byteLength(member)
        if (retract) p.zrem(key, member)
        else {
          p.zadd(key, this.o.score!(v), member)
          bytes += 8
        }
      } else if (retract) {
        p.del(key)
        continue
      } else if (type === 'string') {
        const text = asText(this.o.value === undefined ? v : this.o.value(v))
        bytes += Buffer.byteLength(text)
        if (ttl === undefined) p.set(key, text)
        else p.set(key, text, 'PX', ttl)
        continue
      } else {
        const fields = this.o.fields === undefined ? (v as Record<string, unknown>) : this.o.fields(v)
        const flat: string[] = []
        for (const f in fields) if (fields[f] !== undefined && fields[f] !== null) flat.push(f, asText(fields[f]))
        for (const x of flat) bytes += Buffer.byteLength(x)
        p.del(key)
        if (flat.length > 0) p.hset(key, ...flat)
      }
      if (ttl !== undefined && !retract) p.pexpire(key, ttl)
    }
    return p.exec().then((results) => {
      const failed = results?.find(([e]) => e !== null)
      if (failed !== undefined) throw this.failure(failed[0])
      this.bytes += bytes
    }, (e: unknown) => {
      throw this.failure(e)
    })
  }

  bytesWritten(): number {
    return this.bytes
  }

  retries(): number {
    return this.reconnects
  }

  private failure(e: unknown): SluiceError {
    return new SluiceError('SLUICE_SINK_FAILED', `sink.redis: a write to ${redactRedis(this.o.url)} failed: ${errorMessage(e)}`, { domain: 'external', retryable: true, step: this.step, cause: e })
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect())
  }
}
