import { setTimeout as sleep } from 'node:timers/promises'

/** Protocol errors a coordinator answers while it moves, loads or finishes a transaction: ask again. */
const TRANSIENT = new Set(['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'GROUP_LOAD_IN_PROGRESS', 'REQUEST_TIMED_OUT', 'NETWORK_EXCEPTION'])

/** What a retry may be told: which errors are worth another try, and what to do before it (such as refreshing metadata). */
export interface RetryOptions {
  transient?: (e: unknown) => boolean
  between?: () => Promise<void>
}

/**
 * Runs `f` until it does not fail with a transient error (by default a coordinator's), for up to about 30 s.
 * @example await retryTransient(() => coordinator.endTxn(req))
 */
export async function retryTransient<R>(f: () => Promise<R>, options: RetryOptions = {}): Promise<R> {
  const transient = options.transient ?? isCoordinatorTransient
  for (let attempt = 0; ; attempt++) {
    try {
      return await f()
    } catch (e) {
      if (attempt >= 80 || !transient(e)) throw e
      await sleep(Math.min(50 * (attempt + 1), 500))
      await options.between?.()
    }
  }
}

function isCoordinatorTransient(e: unknown): boolean {
  const type = (e as { type?: unknown } | null)?.type
  return typeof type === 'string' && TRANSIENT.has(type)
}
