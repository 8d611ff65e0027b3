import type { StepMetrics } from '../../core/metrics.ts'
import type { StateBackend } from '../../core/state-backend.ts'

/**
 * Estimated bytes of a state value on the heap: 8 per number, 2 per string character, the sum of an object's,
 * array's, Map's or Set's members (and their keys), 16 of overhead per container; nested up to 16 levels.
 * An estimate to compare key groups with each other, not an exact account of memory.
 * @example approxBytes({ n: 3, tags: ['a', 'bc'] }) // 8 + 2 + 2 + 4 (keys) + 16 * 2 = 48
 */
export function approxBytes(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'number':
      return 8
    case 'string':
      return 2 * v.length
    case 'boolean':
      return 4
    case 'bigint':
      return 8 + Math.ceil(v.toString(16).length / 2)
    case 'object': {
      if (v === null) return 0
      if (depth >= 16) return 16
      let n = 16
      if (Array.isArray(v)) for (const x of v) n += approxBytes(x, depth + 1)
      else if (v instanceof Map) for (const [k, x] of v) n += approxBytes(k, depth + 1) + approxBytes(x, depth + 1)
      else if (v instanceof Set) for (const x of v) n += approxBytes(x, depth + 1)
      else if (ArrayBuffer.isView(v)) n += v.byteLength
      else for (const k in v) n += 2 * k.length + approxBytes((v as Record<string, unknown>)[k], depth + 1)
      return n
    }
    default:
      return 0
  }
}

/** How often a subtask's large state is walked for its per key group sizes (the walk visits every entry). */
export const KEY_GROUP_STATE_EVERY_MS = 10_000

/** State up to this many entries is walked at every read: a millisecond or so. */
const SMALL_STATE = 10_000

/** A walk takes at most about this share of the thread's time: a walk of large state waits longer. */
const WALK_SHARE = 0.02

/** When each backend was last walked (in the caller's time), and how long that walk took (ms). */
const lastRead = new WeakMap<StateBackend, { at: number; took: number }>()

/**
 * Brings a keyed step's keys and bytes per key group (`StepMetrics.keyGroupKeys`, `keyGroupBytes`) up to date
 * from its state backend: at every call while the state is small, else at most every `everyMs` (the walk visits
 * every entry), and no more often than keeps the walks to about 2% of the time, the figures staying as they were in between. Backends without `keyGroupSizes` leave them undefined.
 * @example readKeyGroupState(backend, metrics, Date.now()) // metrics.keyGroupKeys: [12, 0, 3, ...]
 */
export function readKeyGroupState(state: StateBackend, metrics: StepMetrics, now: number, entries: number, everyMs = KEY_GROUP_STATE_EVERY_MS): void {
  if (state.keyGroupSizes === undefined) return
  const last = lastRead.get(state)
  if (entries > SMALL_STATE && last !== undefined && now - last.at < Math.max(everyMs, last.took / WALK_SHARE)) return
  const started = performance.now()
  const { keys, bytes } = state.keyGroupSizes(approxBytes)
  lastRead.set(state, { at: now, took: performance.now() - started })
  metrics.keyGroupKeys = keys
  metrics.keyGroupBytes = bytes
}
