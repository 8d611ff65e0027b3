import { setTimeout as sleep } from 'node:timers/promises'

/** Protocol errors a coordinator answers while it moves, loads or finishes a transaction: ask again. */
const TRANSIENT = new Set(['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'GROUP_LOAD_IN_PROGRESS', 'REQUEST_TIMED_OUT', 'NETWORK_EXCEPTION'])

/**
 * Runs `f` until it does not fail with a transient coordinator error, for up to about 30 s.
 * @example await retryTransient(() => coordinator.endTxn(req))
 */
export async function retryTransient<R>(f: () => Promise<R>): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f()
    } catch (e) {
      const type = (e as { type?: unknown } | null)?.type
      if (attempt >= 80 || typeof type !== 'string' || !TRANSIENT.has(type)) throw e
      await sleep(Math.min(50 * (attempt + 1), 500))
    }
  }
}
