import { deserialize, serialize } from 'node:v8'
import type { KeyedSnapshot } from '../core/operator.ts'
import { isKeyedSnapshot } from './redistribute.ts'

/** A state file holds key groups up to about this size; more state makes more files (files stay far below 2 GiB). */
const PART_BYTES = 256 * 1024 * 1024

/**
 * How an operator's snapshot is stored in state files (v8 serialization). A keyed snapshot is serialized one
 * key group at a time (faster than one pass over the whole graph of objects; a restore that owns only some key
 * groups decodes only those) and split into parts of about 256 MiB, each a keyed snapshot of its groups.
 */
export function encodeState(state: unknown, partBytes: number = PART_BYTES): Uint8Array[] {
  if (!isKeyedSnapshot(state)) return [serialize({ plain: state })]
  const parts: Uint8Array[] = []
  let groups: Record<number, Uint8Array> = {}
  let bytes = 0
  const flush = () => {
    parts.push(serialize({ keyed: { keyGroups: state.keyGroups, shared: state.shared, groups } }))
    groups = {}
    bytes = 0
  }
  for (const [g, data] of Object.entries(state.groups)) {
    const b = serialize(data)
    if (bytes > 0 && bytes + b.byteLength > partBytes) flush()
    groups[Number(g)] = b
    bytes += b.byteLength
  }
  flush()
  return parts
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
