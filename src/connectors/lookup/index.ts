import { postgresLookup } from './postgres.ts'
import { redisLookup } from './redis.ts'

/**
 * Ready-made lookup functions for `.lookup(fn, options)`.
 * @example orders.lookup(lookup.postgres({ url, query: 'SELECT tier FROM users WHERE id = $1' }), { key: (o) => o.userId })
 */
export const lookup = { redis: redisLookup, postgres: postgresLookup }
