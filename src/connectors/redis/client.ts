import type { Redis } from 'ioredis'
import { lazyRequire } from '../../core/lazy-require.ts'

const ioredis = lazyRequire<typeof import('ioredis')>(import.meta.url, 'ioredis')

/** A url without its password, for messages. */
export function redactRedis(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return 'the Redis url'
  }
}

/**
 * An ioredis client that connects at once and fails commands (instead of queueing them forever) while down;
 * `name` is its connection name (what `CLIENT LIST` shows).
 */
export function redisClient(url: string, name?: string): Redis {
  return new (ioredis().Redis)(url, { lazyConnect: false, maxRetriesPerRequest: 3, enableOfflineQueue: true, ...(name === undefined ? {} : { connectionName: name }) })
}
