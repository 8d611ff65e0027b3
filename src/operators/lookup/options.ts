import { parseDuration, type Duration } from '../../core/duration.ts'
import { SluiceError } from '../../core/errors.ts'

/**
 * What a lookup function receives besides the key: aborted when the lookup times out.
 * @example const rate: LookupFunction<string, number> = async (currency, { signal }) => (await (await fetch(`https://rates.example/${currency}`, { signal })).json()) as number
 */
export interface LookupCall {
  signal: AbortSignal
}

/**
 * An async function from a key to what it finds (undefined or null when nothing). A `close` is called at the end.
 * @example
 * const tier: LookupFunction<string, string> = async (userId) => (userId.startsWith('vip-') ? 'gold' : 'basic')
 * orders.lookup(tier, { key: (o) => o.userId, into: (o, t) => ({ ...o, tier: t }) })
 */
export type LookupFunction<K, R> = ((key: K, call: LookupCall) => Promise<R>) & { close?: () => void | Promise<void> }

/**
 * Options of `.lookup(fn, options)`.
 * @example { key: (o) => o.userId, concurrency: 32, timeout: '2s', retries: 2, cache: { ttl: '1m', max: 10_000 } }
 */
export interface LookupOptions<T, K, R, U> {
  /** The key to look up for a record (default: the record itself). Records of a batch with one key share one lookup. */
  key?: (value: T) => K
  /** The output record from the input and what was found (default `{ value, result }`). */
  into?: (value: T, result: R) => U
  /** Lookups in flight at most on a subtask; at the bound the input waits (backpressure). Default 16. */
  concurrency?: number
  /** A lookup slower than this fails (and may be retried). Default '10s'. */
  timeout?: Duration
  /** Attempts after the first for a failed or timed-out lookup, with a short backoff. Default 2. */
  retries?: number
  /** Keeps results for `ttl` (processing time), at most `max` keys (least recently used go first). */
  cache?: { ttl: Duration; max?: number }
  /** Emit batches in the order they came (default true); false emits each as soon as its lookups are done. */
  ordered?: boolean
}

export interface ResolvedLookupOptions<T, K, R, U> {
  key: (value: T) => K
  into: (value: T, result: R) => U
  concurrency: number
  timeoutMs: number
  retries: number
  cache: { ttlMs: number; max: number } | undefined
  ordered: boolean
}

export function resolveLookupOptions<T, K, R, U>(o: LookupOptions<T, K, R, U> = {}): ResolvedLookupOptions<T, K, R, U> {
  const bad = (what: string) => new SluiceError('SLUICE_BAD_OPTION', `lookup: ${what}`)
  const concurrency = o.concurrency ?? 16
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw bad('concurrency must be a positive integer')
  const retries = o.retries ?? 2
  if (!Number.isSafeInteger(retries) || retries < 0) throw bad('retries must be 0 or more')
  if (o.key !== undefined && typeof o.key !== 'function') throw bad('key must be a function')
  if (o.into !== undefined && typeof o.into !== 'function') throw bad('into must be a function')
  const max = o.cache?.max ?? 10_000
  if (o.cache !== undefined && (!Number.isSafeInteger(max) || max < 1)) throw bad('cache.max must be a positive integer')
  return {
    key: o.key ?? ((v: T) => v as unknown as K),
    into: o.into ?? ((value: T, result: R) => ({ value, result }) as unknown as U),
    concurrency,
    timeoutMs: parseDuration(o.timeout ?? '10s', 'lookup timeout'),
    retries,
    cache: o.cache === undefined ? undefined : { ttlMs: parseDuration(o.cache.ttl, 'lookup cache ttl'), max },
    ordered: o.ordered ?? true,
  }
}
