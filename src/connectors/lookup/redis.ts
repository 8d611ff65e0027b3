import { SluiceError } from '../../core/errors.ts'
import type { Redis } from 'ioredis'
import type { LookupFunction } from '../../operators/lookup/options.ts'
import { lazyRequire } from '../../core/lazy-require.ts'

const ioredis = lazyRequire<typeof import('ioredis')>(import.meta.url, 'ioredis')

/**
 * Options of `lookup.redis`: `type: 'string'` GETs `prefix + key` (parsed as JSON with `json`), `'hash'`
 * HGETALLs it. A missing key gives undefined.
 * @example lookup.redis({ url: 'redis://127.0.0.1:6379', type: 'hash', prefix: 'user:' })
 */
export interface RedisLookupOptions {
  url: string
  type?: 'string' | 'hash'
  prefix?: string
  json?: boolean
}

/**
 * A lookup function for `.lookup` that reads Redis through one ioredis client per subtask, with automatic
 * pipelining: the lookups of a batch, started together, go to Redis in one round trip.
 * @example stream.lookup(lookup.redis({ url, prefix: 'price:' }), { key: (o) => o.sku, cache: { ttl: '30s' } })
 */
export function redisLookup(options: RedisLookupOptions): LookupFunction<string | number, unknown> {
  const { url, type = 'string', prefix = '', json = false } = options ?? ({} as RedisLookupOptions)
  if (typeof url !== 'string' || url === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'lookup.redis needs a url (redis://host:port)')
  if (type !== 'string' && type !== 'hash') throw new SluiceError('SLUICE_BAD_OPTION', "lookup.redis: type must be 'string' or 'hash'")
  let client: Redis | undefined
  const open = () => {
    const c = new (ioredis().Redis)(url, { enableAutoPipelining: true, maxRetriesPerRequest: 2 })
    c.on('error', () => undefined) // a lookup fails with it, and is retried
    // The client does not keep a finished run's process alive.
    c.on('connect', () => (c as unknown as { stream?: { unref?: () => void } }).stream?.unref?.())
    return c
  }
  const fn = async (key: string | number): Promise<unknown> => {
    client ??= open()
    const k = prefix + String(key)
    if (type === 'hash') {
      const h = await client.hgetall(k)
      return Object.keys(h).length === 0 ? undefined : h
    }
    const v = await client.get(k)
    return v === null ? undefined : json ? JSON.parse(v) : v
  }
  return Object.assign(fn, {
    close: async () => {
      await client?.quit().catch(() => client?.disconnect())
      client = undefined
    },
  })
}
