import type pg from 'pg'
import { SluiceError } from '../../core/errors.ts'
import type { LookupFunction } from '../../operators/lookup/options.ts'
import { lazyRequire } from '../../core/lazy-require.ts'

const pgLib = lazyRequire<typeof pg>(import.meta.url, 'pg')

/**
 * Options of `lookup.postgres`: a parameterised `query` run with the key as `$1` (or a tuple key as
 * `$1, $2, ...`); `first` (default) gives the first row or undefined, `all` every row.
 * @example lookup.postgres({ url, query: 'SELECT name, country FROM users WHERE id = $1' })
 */
export interface PostgresLookupOptions {
  url: string
  query: string
  rows?: 'first' | 'all'
  /** Connections in the pool of each subtask (default 8). */
  connections?: number
}

/**
 * A lookup function for `.lookup` that queries Postgres through a `pg` pool per subtask; the pool's idle
 * connections do not keep a finished run's process alive.
 * @example stream.lookup(lookup.postgres({ url, query: 'SELECT * FROM users WHERE id = $1' }), { key: (o) => o.userId })
 */
export function postgresLookup(options: PostgresLookupOptions): LookupFunction<unknown, unknown> {
  const { url, query, rows = 'first', connections = 8 } = options ?? ({} as PostgresLookupOptions)
  if (typeof url !== 'string' || url === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'lookup.postgres needs a url')
  if (typeof query !== 'string' || !query.includes('$1')) throw new SluiceError('SLUICE_BAD_OPTION', 'lookup.postgres needs a query with the key as $1')
  let pool: pg.Pool | undefined
  const fn = async (key: unknown): Promise<unknown> => {
    pool ??= new (pgLib().Pool)({ connectionString: url, max: connections, allowExitOnIdle: true })
    const r = await pool.query(query, Array.isArray(key) ? key : [key])
    return rows === 'all' ? r.rows : r.rows[0]
  }
  return Object.assign(fn, {
    close: async () => {
      await pool?.end().catch(() => undefined)
      pool = undefined
    },
  })
}
