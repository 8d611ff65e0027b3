import { parseDuration, type Duration } from '../core/duration.ts'
import { userError } from '../core/errors.ts'

/** How a user function that failed with a transient error is retried (pipeline option `retries`). */
export interface RetryOptions {
  /** Retries after the first failed call (default 3; 0 turns retrying off). */
  attempts?: number
  /** Wait before the first retry; each further retry waits twice as long (default '10ms'). */
  backoff?: Duration
  /** Longest wait between two calls (default '1s'). */
  maxBackoff?: Duration
}

/** Retry options resolved to numbers, plus the function that waits. */
export interface RetryPolicy {
  attempts: number
  backoffMs: number
  maxBackoffMs: number
  /** Blocks the thread for `ms` (tests pass one that records the waits instead). */
  sleep: (ms: number) => void
}

const cell = new Int32Array(new SharedArrayBuffer(4))

/**
 * Blocks the calling thread for `ms` milliseconds. A pipeline processes a batch synchronously, so a
 * retry's backoff holds up the whole thread on purpose: upstream reads stop while a transient failure
 * (a rate limit, a timeout) lasts, which is backpressure, not a bug.
 */
export function sleepBlocking(ms: number): void {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms)
}

export const noRetries: RetryPolicy = { attempts: 0, backoffMs: 0, maxBackoffMs: 0, sleep: sleepBlocking }

/** Checks the `retries` option of pipeline `name`; `false` turns retrying off. */
export function resolveRetries(name: string, o: RetryOptions | false | undefined, sleep: (ms: number) => void = sleepBlocking): RetryPolicy {
  if (o === false) return { ...noRetries, sleep }
  if (o !== undefined && (o === null || typeof o !== 'object')) throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': retries must be an object such as { attempts: 3, backoff: '10ms', maxBackoff: '1s' }, or false`)
  const attempts = o?.attempts ?? 3
  if (!Number.isInteger(attempts) || attempts < 0 || attempts > 100) throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': retries.attempts must be an integer from 0 to 100, got ${String(attempts)}`)
  const backoffMs = parseDuration(o?.backoff ?? '10ms', `pipeline '${name}' retries.backoff`)
  const maxBackoffMs = parseDuration(o?.maxBackoff ?? '1s', `pipeline '${name}' retries.maxBackoff`)
  if (maxBackoffMs < backoffMs) throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': retries.maxBackoff (${maxBackoffMs} ms) is shorter than retries.backoff (${backoffMs} ms)`)
  return { attempts, backoffMs, maxBackoffMs, sleep }
}

/** The wait before retry `k` (1-based): backoff doubled each time, capped at maxBackoff. No jitter: runs stay reproducible. */
export function backoffDelay(p: RetryPolicy, k: number): number {
  return Math.min(p.backoffMs * 2 ** (k - 1), p.maxBackoffMs)
}
