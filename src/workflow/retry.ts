/**
 * How a failed task is retried: `retries` more attempts, waiting base·factor^n ms (capped), with jitter.
 * @example builder.task('export', shellTask('./export.sh'), { retry: { retries: 5, baseMs: 2_000, maxMs: 60_000 } }) // the rest from defaultRetry
 */
export interface RetryPolicy {
  retries: number
  baseMs: number
  factor: number
  maxMs: number
  /** 0 to 1: the share of each delay drawn at random (full jitter is 1). */
  jitter: number
}

/**
 * The retry policy of a task that sets none: no retry; with `retries` set, waits of 1 s doubling up to 5 min,
 * each shortened by up to half at random.
 * @example const wait = backoffDelay({ ...defaultRetry, retries: 3 }, 1, Math.random) // 500-1000 ms
 */
export const defaultRetry: RetryPolicy = { retries: 0, baseMs: 1_000, factor: 2, maxMs: 5 * 60_000, jitter: 0.5 }

/**
 * The wait before retry number `failures` (1 after the first failure); `random` returns [0, 1).
 * @example backoffDelay({ ...defaultRetry, jitter: 0 }, 2, Math.random) // 2000: after the second failure, 1 s doubled once
 */
export function backoffDelay(policy: RetryPolicy, failures: number, random: () => number): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * policy.factor ** Math.max(0, failures - 1))
  return Math.round(raw * (1 - policy.jitter) + raw * policy.jitter * random())
}

/**
 * A seeded generator of [0, 1) (mulberry32), so jitter is reproducible in tests.
 * @example backoffDelay(defaultRetry, 1, seededRandom(42)) // the same wait in every test run
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
