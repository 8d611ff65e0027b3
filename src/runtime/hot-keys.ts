import type { KeyCount } from '../core/metrics.ts'
import type { SpaceSaving } from '../observe/hot-keys/space-saving.ts'
import { TOP_KEYS } from '../observe/metrics/registry.ts'

/** A sketch's top keys as plain data, keys as text (JSON for keys that are not strings or numbers). */
export function topKeys(sketch: SpaceSaving<unknown>): KeyCount[] {
  return sketch.top(TOP_KEYS).map((k) => ({ key: keyText(k.key), count: k.count, error: k.error }))
}

function keyText(k: unknown): string {
  if (typeof k === 'string') return k
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k)
  try {
    return JSON.stringify(k) ?? String(k)
  } catch {
    return String(k)
  }
}

/** A key is worth a line of the summary from this share of its step's records... */
const HOT_SHARE = 0.1
/** ...and this many times the count of the last of the step's top keys (all keys about even is no hot key). */
const HOT_OVER_LAST = 3

/**
 * Whether a step's top keys (most frequent first) hold a hot key: the first takes at least 10% of the step's
 * `records` and at least 3 times what the last of them does. A handful of keys sharing the records evenly
 * (13% each of eight pages) is not a hot key, nor is a largest key of 2%.
 * @example isHot(1000, [{ key: 'a', count: 500, error: 0 }, { key: 'b', count: 2, error: 0 }]) // true
 */
export function isHot(records: number, top: readonly KeyCount[]): boolean {
  if (top.length === 0 || records <= 0) return false
  const first = top[0].count
  return first >= HOT_SHARE * records && (top.length === 1 || first >= HOT_OVER_LAST * top[top.length - 1].count)
}

/** A keyed step whose busiest subtask received more than this many times its fair share is skewed (75% of the records at parallelism 2). */
const SKEW_FACTOR = 1.5
/** Below this many records a step is too small to call skewed. */
const SKEW_MIN_RECORDS = 10_000

/**
 * The warning for a keyed step whose records are spread unevenly over its subtasks: one subtask received more
 * than 1.5 times its fair share (1/parallelism). Undefined when the spread is fine or the step is small.
 * @example skewWarning('per-auction', [90_000, 10_000]) // "step 'per-auction': subtask 0 received 90% of its records (fair share 50%)..."
 */
export function skewWarning(step: string, recordsIn: readonly number[], top?: readonly KeyCount[]): string | undefined {
  const n = recordsIn.length
  const total = recordsIn.reduce((a, b) => a + b, 0)
  if (n < 2 || total < SKEW_MIN_RECORDS) return undefined
  const max = Math.max(...recordsIn)
  if (max * n <= SKEW_FACTOR * total) return undefined
  const hot = top !== undefined && top.length > 0 ? `; its hottest key carries ${pct(top[0].count, total)} of them` : ''
  return `step '${step}': subtask ${recordsIn.indexOf(max)} received ${pct(max, total)} of its records (fair share ${pct(1, n)})${hot}: a hot key holds the step back (see its top keys)`
}

function pct(a: number, b: number): string {
  return `${Math.round((a / b) * 100)}%`
}
