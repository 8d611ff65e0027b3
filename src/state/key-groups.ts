import { userError } from '../core/errors.ts'
import { DEFAULT_KEY_GROUPS, subtaskOfKeyGroup } from '../core/key.ts'
import type { KeyGroupSelection } from '../core/state-backend.ts'

/**
 * The key groups a subtask owns: the contiguous range `[start, end)` that `subtaskOfKeyGroup` maps to it.
 * @example keyGroupRange(1, 4, 128) // { start: 32, end: 64 }
 */
export function keyGroupRange(subtask: number, parallelism: number, keyGroups: number = DEFAULT_KEY_GROUPS): { start: number; end: number } {
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > keyGroups || !Number.isInteger(subtask) || subtask < 0 || subtask >= parallelism) {
    throw userError('SLUICE_STATE_KEY_GROUPS', `state: no key group range for subtask ${subtask} of ${parallelism} over ${keyGroups} key groups`, {
      hint: 'parallelism must be between 1 and the number of key groups',
    })
  }
  let start = Math.ceil((subtask * keyGroups) / parallelism)
  while (start > 0 && subtaskOfKeyGroup(start - 1, parallelism, keyGroups) === subtask) start--
  while (start < keyGroups && subtaskOfKeyGroup(start, parallelism, keyGroups) < subtask) start++
  let end = start
  while (end < keyGroups && subtaskOfKeyGroup(end, parallelism, keyGroups) === subtask) end++
  return { start, end }
}

export function selectKeyGroups(sel: KeyGroupSelection, keyGroups: number): Set<number> {
  const out = new Set<number>()
  if (typeof sel === 'object' && sel !== null && 'start' in sel && 'end' in sel && !(Symbol.iterator in sel)) {
    for (let g = Math.max(0, sel.start); g < Math.min(keyGroups, sel.end); g++) out.add(g)
    return out
  }
  for (const g of sel as Iterable<number>) out.add(g)
  return out
}
