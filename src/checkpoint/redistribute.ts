import { userError } from '../core/errors.ts'
import { DEFAULT_KEY_GROUPS, subtaskOfKeyGroup } from '../core/key.ts'
import type { KeyedRestore, KeyedSnapshot } from '../core/operator.ts'

/** Whether an operator's snapshot is a KeyedSnapshot (state by key group) rather than opaque data. */
export function isKeyedSnapshot(s: unknown): s is KeyedSnapshot {
  if (typeof s !== 'object' || s === null) return false
  const k = s as Partial<KeyedSnapshot>
  return typeof k.keyGroups === 'number' && typeof k.groups === 'object' && k.groups !== null
}

/**
 * Splits the snapshots of a keyed step's subtasks into what each subtask restores at `newParallelism`:
 * each key group goes to the subtask that owns it now (`subtaskOfKeyGroup`), and every new subtask gets
 * the `shared` data of every old one, in old subtask order. Pure: group data is shared with the input,
 * not copied.
 *
 * @example
 * const [a, b, c] = redistributeKeyed([snapOf0, snapOf1], 3) // a checkpoint at parallelism 2, restored at 3
 */
export function redistributeKeyed(snapshots: readonly KeyedSnapshot[], newParallelism: number, keyGroups: number = snapshots[0]?.keyGroups ?? DEFAULT_KEY_GROUPS): KeyedRestore[] {
  if (!Number.isInteger(newParallelism) || newParallelism < 1 || newParallelism > keyGroups) {
    throw userError('SLUICE_STATE_KEY_GROUPS', `state: cannot restore at parallelism ${newParallelism} with ${keyGroups} key groups`, {
      hint: 'parallelism must be between 1 and the number of key groups',
    })
  }
  const out: KeyedRestore[] = []
  for (let i = 0; i < newParallelism; i++) out.push({ keyGroups, groups: {}, shared: [] })
  const seen = new Map<number, number>()
  snapshots.forEach((snap, old) => {
    if (!isKeyedSnapshot(snap)) throw userError('SLUICE_STATE_SNAPSHOT', `state: the snapshot of subtask ${old} is not split by key group`)
    if (snap.keyGroups !== keyGroups) {
      throw userError('SLUICE_STATE_KEY_GROUPS', `state: the snapshot of subtask ${old} has ${snap.keyGroups} key groups, expected ${keyGroups}`, {
        hint: 'the number of key groups is fixed for the life of a job; restore with the same keyGroups',
      })
    }
    for (const [text, data] of Object.entries(snap.groups)) {
      const g = Number(text)
      if (!Number.isInteger(g) || g < 0 || g >= keyGroups) throw userError('SLUICE_STATE_SNAPSHOT', `state: the snapshot of subtask ${old} holds key group '${text}', outside 0..${keyGroups - 1}`)
      // A group without state (a snapshot read one key group at a time lists every group), as a state file leaves it out.
      if (data === undefined || (typeof data === 'object' && data !== null && isEmptyObject(data))) continue
      const other = seen.get(g)
      if (other !== undefined) throw userError('SLUICE_STATE_SNAPSHOT', `state: key group ${g} is in the snapshots of both subtask ${other} and subtask ${old}`)
      seen.set(g, old)
      out[subtaskOfKeyGroup(g, newParallelism, keyGroups)].groups[g] = data
    }
    for (const r of out) r.shared.push(snap.shared)
  })
  return out
}

/** Whether `o` is a plain object without properties: a key group without state, as a lazy snapshot reads one. */
export function isEmptyObject(o: object): boolean {
  if (Object.getPrototypeOf(o) !== Object.prototype) return false
  for (const _ in o) return false
  return true
}
