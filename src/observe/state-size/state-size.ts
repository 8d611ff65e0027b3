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

/**
 * What a walk is foreseen to cost per entry (ms) before a backend's first walk: about what both backends take
 * (1.8-2.8 µs an entry for Nexmark's join and aggregate state).
 */
const FIRST_WALK_MS_PER_ENTRY = 0.002

/** A backend's last walk: when (in the caller's time), how long it took (ms), and how many entries it visited. */
export interface LastWalk {
  at: number
  took: number
  entries: number
}

const lastRead = new WeakMap<StateBackend, LastWalk>()
/** When each backend's figures were first asked for. */
const firstRead = new WeakMap<StateBackend, number>()

/**
 * Whether a walk of `entries` entries is due at `now`: always while the state is small; else once `everyMs` have
 * passed and the walk, its cost foreseen from the last one's time per entry, stays within about 2% of the time
 * since the last. A state that grew tenfold since its last walk waits ten times longer, so a late walk of a large
 * state (at the end of a run, say) does not cost many times the budget. A large state never walked counts from
 * `since` (when its figures were first asked for) at about 2 µs an entry: a run whose metrics nobody read until
 * its end does not walk its whole state as it closes.
 * @example walkDue({ at: 0, took: 400, entries: 1e6 }, 30_000, 2e6) // false: a walk of 2M entries (about 800 ms) waits 40 s
 */
export function walkDue(last: LastWalk | undefined, now: number, entries: number, everyMs = KEY_GROUP_STATE_EVERY_MS, since = now): boolean {
  if (entries <= SMALL_STATE) return true
  const from = last ?? { at: since, took: entries * FIRST_WALK_MS_PER_ENTRY, entries }
  const foreseen = (from.took * entries) / Math.max(1, from.entries)
  return now - from.at >= Math.max(everyMs, foreseen / WALK_SHARE)
}

/**
 * Brings a keyed step's keys and bytes per key group (`StepMetrics.keyGroupKeys`, `keyGroupBytes`) up to date
 * from its state backend when a walk is due (see `walkDue`: the walk visits every entry), the figures staying
 * as they were in between. Backends without `keyGroupSizes` leave them undefined.
 * @example readKeyGroupState(backend, metrics, Date.now(), 20_000) // metrics.keyGroupKeys: [12, 0, 3, ...]
 */
export function readKeyGroupState(state: StateBackend, metrics: StepMetrics, now: number, entries: number, everyMs = KEY_GROUP_STATE_EVERY_MS): void {
  if (state.keyGroupSizes === undefined) return
  let since = firstRead.get(state)
  if (since === undefined) firstRead.set(state, (since = now))
  if (!walkDue(lastRead.get(state), now, entries, everyMs, since)) return
  const started = performance.now()
  const { keys, bytes } = state.keyGroupSizes(approxBytes)
  lastRead.set(state, { at: now, took: performance.now() - started, entries })
  metrics.keyGroupKeys = keys
  metrics.keyGroupBytes = bytes
}
