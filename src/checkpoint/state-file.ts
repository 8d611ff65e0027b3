import { deserialize, serialize } from 'node:v8'
import type { KeyedSnapshot } from '../core/operator.ts'
import { isKeyedSnapshot } from './redistribute.ts'

/**
 * How an operator's snapshot is stored in a state file (v8 serialization). A keyed snapshot is serialized
 * one key group at a time: that is faster than one pass over the whole graph of objects, and a restore that
 * owns only some key groups decodes only those.
 */
export function encodeState(state: unknown): Uint8Array {
  if (!isKeyedSnapshot(state)) return serialize({ plain: state })
  const groups: Record<number, Uint8Array> = {}
  for (const [g, data] of Object.entries(state.groups)) groups[Number(g)] = serialize(data)
  return serialize({ keyed: { keyGroups: state.keyGroups, shared: state.shared, groups } })
}

/** Decodes a state file; for a keyed snapshot, only the groups `owned` accepts (all by default). */
export function decodeState(data: Uint8Array, owned: (keyGroup: number) => boolean = () => true): unknown {
  const box = deserialize(data) as { plain?: unknown; keyed?: { keyGroups: number; shared?: unknown; groups: Record<number, Uint8Array> } }
  if (box.keyed === undefined) return box.plain
  const groups: Record<number, unknown> = {}
  for (const [g, bytes] of Object.entries(box.keyed.groups)) if (owned(Number(g))) groups[Number(g)] = deserialize(bytes)
  const snap: KeyedSnapshot = { keyGroups: box.keyed.keyGroups, groups }
  if (box.keyed.shared !== undefined) snap.shared = box.keyed.shared
  return snap
}
