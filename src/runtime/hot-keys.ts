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
