import { SluiceError } from '../core/errors.ts'
import { keyId } from '../core/key.ts'
import { CHANGED_KEYS, type EntryColumns, type KeyedSnapshot, ROW_PATCHES, type RowPatch } from '../core/operator.ts'
import type { OperatorEntry, StateFileRef } from './manifest.ts'
import { isKeyedSnapshot } from './redistribute.ts'

const isColumns = (v: unknown): v is EntryColumns => {
  const c = v as Partial<EntryColumns> | null
  return typeof c === 'object' && c !== null && Array.isArray(c.s) && Array.isArray(c.k) && Array.isArray(c.d)
}

/** One past the highest position in a snapshot: positions of the next layer start there. */
function span(snap: KeyedSnapshot): number {
  let max = -1
  for (const g of Object.values(snap.groups)) {
    for (const [name, v] of Object.entries(g as Record<string, unknown>)) {
      if (name === CHANGED_KEYS || name === ROW_PATCHES || !isColumns(v)) continue
      for (const s of v.s) if (s > max) max = s
    }
  }
  return max + 1
}

/**
 * The full keyed snapshot as of the last of `deltas` (see `Operator.snapshotIncremental`): in each key group,
 * every key keeps the entries of the newest layer (the base or a delta) that holds or changed it, in every
 * list; a key a delta lists as changed without entries is gone, and an entry a delta patches (ROW_PATCHES) is
 * the one before with the patch applied, at its old position. Positions are renumbered so that entries keep
 * one order over all groups: the base's first, then each delta's. Pure: unchanged groups and entries are
 * shared with the input, not copied.
 *
 * @example
 * const full = mergeKeyed(baseOf7, [deltaOf8, deltaOf9]) // what a full snapshot at checkpoint 9 would restore
 */
export function mergeKeyed(base: KeyedSnapshot, deltas: readonly KeyedSnapshot[]): KeyedSnapshot {
  if (deltas.length === 0) return base
  const layers = [base, ...deltas]
  for (const [i, d] of layers.entries()) {
    if (d.keyGroups !== base.keyGroups) {
      throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `incremental state: delta ${i} has ${d.keyGroups} key groups, its base ${base.keyGroups}`, { domain: 'internal' })
    }
  }
  const offsets = [0]
  for (let i = 0; i < deltas.length; i++) offsets.push(offsets[i] + span(layers[i]))
  const groupIds = new Set<number>()
  for (const l of layers) for (const g of Object.keys(l.groups)) groupIds.add(Number(g))
  const groups: Record<number, unknown> = {}
  for (const g of groupIds) {
    const merged = mergeGroup(layers.map((l) => l.groups[g] as Record<string, unknown> | undefined), g, offsets)
    if (merged !== undefined) groups[g] = merged
  }
  const last = deltas[deltas.length - 1]
  return last.shared === undefined ? { keyGroups: base.keyGroups, groups } : { keyGroups: base.keyGroups, groups, shared: last.shared }
}

/**
 * One key group of a base and its deltas (`datas`: the group's data in each layer, oldest first), as
 * `mergeKeyed` merges every group; `offsets[i]` is added to the positions of layer i. Undefined when nothing
 * is left.
 */
export function mergeGroup(datas: readonly (Record<string, unknown> | undefined)[], g: number, offsets: readonly number[]): Record<string, unknown> | undefined {
  if (datas.some((d, i) => i > 0 && d?.[ROW_PATCHES] !== undefined)) {
    const merged = mergePatched(datas, g, offsets)
    return Object.keys(merged).length > 0 ? merged : undefined
  }
  // The newest delta that changed each key of this group.
  const newest = new Map<unknown, number>()
  for (let i = 1; i < datas.length; i++) {
    const changed = datas[i]?.[CHANGED_KEYS]
    if (changed === undefined) continue
    if (!Array.isArray(changed)) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `incremental state: key group ${g} of delta ${i} has a malformed list of changed keys`, { domain: 'internal' })
    for (const k of changed) newest.set(keyId(k), i)
  }
  const merged: Record<string, unknown> = {}
  // Lists taken over from the base as they are (no key of theirs changed); copied before anything is added.
  const asIs = new Set<string>()
  for (let i = 0; i < datas.length; i++) {
    const data = datas[i]
    if (data === undefined) continue
    for (const [name, v] of Object.entries(data)) {
      if (name === CHANGED_KEYS) continue
      if (!isColumns(v)) {
        merged[name] = v
        continue
      }
      if (i === 0 && newest.size === 0) {
        merged[name] = v
        asIs.add(name)
        continue
      }
      const had = merged[name]
      let out: EntryColumns
      if (!isColumns(had)) merged[name] = out = { s: [], k: [], d: [] }
      else if (asIs.delete(name)) merged[name] = out = { s: had.s.slice(), k: had.k.slice(), d: had.d.slice() }
      else out = had
      const off = offsets[i]
      for (let j = 0; j < v.s.length; j++) {
        if ((newest.get(keyId(v.k[j])) ?? 0) !== i) continue
        out.s.push(v.s[j] + off)
        out.k.push(v.k[j])
        out.d.push(v.d[j])
      }
    }
  }
  for (const [name, v] of Object.entries(merged)) if (isColumns(v) && v.s.length === 0) delete merged[name]
  return Object.keys(merged).length > 0 ? merged : undefined
}

type Held = { s: number; k: unknown; d: unknown }

/** One key group of `layers` when some delta patches entries of it: layer by layer, each list's entries by key. */
function mergePatched(datas: readonly (Record<string, unknown> | undefined)[], g: number, offsets: readonly number[]): Record<string, unknown> {
  const lists = new Map<string, Map<unknown, Held>>()
  const other: Record<string, unknown> = {}
  const listOf = (name: string) => {
    let m = lists.get(name)
    if (m === undefined) lists.set(name, (m = new Map()))
    return m
  }
  for (let i = 0; i < datas.length; i++) {
    const data = datas[i]
    if (data === undefined) continue
    const patches = (data[ROW_PATCHES] ?? {}) as Record<string, unknown>
    if (typeof patches !== 'object' || patches === null || !Object.values(patches).every(isColumns)) throw corrupt(g, i, 'malformed row patches')
    const patched = new Map<string, Set<unknown>>()
    for (const [name, p] of Object.entries(patches as Record<string, EntryColumns>)) patched.set(name, new Set(p.k.map(keyId)))
    if (i > 0) {
      const changed = data[CHANGED_KEYS] ?? []
      if (!Array.isArray(changed)) throw corrupt(g, i, 'a malformed list of changed keys')
      for (const k of changed) {
        const id = keyId(k)
        for (const [name, m] of lists) if (!patched.get(name)?.has(id)) m.delete(id)
      }
    }
    for (const [name, p] of Object.entries(patches as Record<string, EntryColumns>)) {
      const m = listOf(name)
      for (let j = 0; j < p.k.length; j++) {
        const id = keyId(p.k[j])
        const held = m.get(id)
        if (held === undefined) throw corrupt(g, i, `a row patch of list '${name}' for a key it does not hold`)
        m.set(id, { s: held.s, k: held.k, d: applyPatch(held.d, p.d[j] as RowPatch, g, i) })
      }
    }
    for (const [name, v] of Object.entries(data)) {
      if (name === CHANGED_KEYS || name === ROW_PATCHES) continue
      if (!isColumns(v)) {
        other[name] = v
        continue
      }
      const m = listOf(name)
      const off = offsets[i]
      for (let j = 0; j < v.s.length; j++) m.set(keyId(v.k[j]), { s: v.s[j] + off, k: v.k[j], d: v.d[j] })
    }
  }
  const merged: Record<string, unknown> = other
  for (const [name, m] of lists) {
    if (m.size === 0) continue
    const out: EntryColumns = { s: [], k: [], d: [] }
    for (const e of m.values()) {
      out.s.push(e.s)
      out.k.push(e.k)
      out.d.push(e.d)
    }
    merged[name] = out
  }
  return merged
}

const corrupt = (g: number, i: number, what: string) => new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `incremental state: key group ${g} of delta ${i} has ${what}`, { domain: 'internal' })

/** `d` with `patch` applied; `d` and what it holds are not changed (what the patch does not touch is shared). */
export function applyPatch(d: unknown, patch: RowPatch, g = 0, i = 0): unknown {
  if (!Array.isArray(patch) || !Array.isArray(patch[0]) || !Array.isArray(patch[1])) throw corrupt(g, i, 'a malformed row patch')
  let out = d
  for (const [path, kept, added] of patch[0]) {
    out = replaceAt(out, path, 0, (arr) => {
      if (!Array.isArray(arr) || !Number.isInteger(kept) || kept < 0 || kept > arr.length || !Array.isArray(added)) throw corrupt(g, i, 'a row patch that does not fit its entry')
      return arr.slice(0, kept).concat(added)
    }, g, i)
  }
  for (const [path, value] of patch[1]) out = replaceAt(out, path, 0, () => value, g, i)
  return out
}

/** A copy of `v` down `path` (from `at`) with what is there replaced by `fn` of it. */
function replaceAt(v: unknown, path: (number | string)[], at: number, fn: (old: unknown) => unknown, g: number, i: number): unknown {
  if (at === path.length) return fn(v)
  if (typeof v !== 'object' || v === null) throw corrupt(g, i, 'a row patch whose path leaves its entry')
  const copy = (Array.isArray(v) ? v.slice() : { ...v }) as Record<string | number, unknown>
  const k = path[at]
  copy[k] = replaceAt(copy[k], path, at + 1, fn, g, i)
  return copy
}

/** The parts of one snapshot (state files that each hold some of its key groups) as one snapshot. */
function joinParts(parts: unknown[], what: string): KeyedSnapshot {
  const groups: Record<number, unknown> = {}
  let shared: unknown
  for (const p of parts) {
    if (!isKeyedSnapshot(p)) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `incremental state: a state file of ${what} is not split by key group`, { domain: 'internal' })
    for (const [g, data] of Object.entries(p.groups)) {
      if (Number(g) in groups) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `incremental state: key group ${g} is in two state files of ${what}`, { domain: 'internal' })
      groups[Number(g)] = data
    }
    if (p.shared !== undefined) shared = p.shared
  }
  const keyGroups = (parts[0] as KeyedSnapshot).keyGroups
  return shared === undefined ? { keyGroups, groups } : { keyGroups, groups, shared }
}

/**
 * The state an operator's manifest entry describes, one item per saved subtask (as `redistributeKeyed`
 * takes them): the decoded files as they are, or, when the entry lists deltas after its base files, the one
 * snapshot that merging them gives, its operator-wide data that of the first saved subtask, followed by one
 * snapshot without groups for the operator-wide data of each other saved subtask (each subtask's newest, as a
 * full checkpoint gives them all). `read` decodes one state file.
 */
export function operatorStates(op: OperatorEntry, read: (f: StateFileRef) => unknown): unknown[] {
  if (!op.files.some((f) => f.delta === true)) return op.files.map(read)
  const { layerOf, ids } = chainLayers(op)
  const newestShared = new Map<number, unknown>()
  const parts: unknown[][] = [[], ...ids.map((): unknown[] => [])]
  op.files.forEach((f, i) => {
    const state = read(f)
    if (isKeyedSnapshot(state) && state.shared !== undefined) newestShared.set(f.subtask, state.shared)
    parts[layerOf[i]].push(state)
  })
  const layers = ids.map((id, i) => joinParts(parts[i + 1], `the delta of checkpoint ${id ?? 'itself'}`))
  const merged = mergeKeyed(joinParts(parts[0], `the base of step '${op.step}'`), layers)
  const shared = savedShared(newestShared)
  if (shared.length === 0) return [merged]
  return [{ keyGroups: merged.keyGroups, groups: merged.groups, shared: shared[0] }, ...shared.slice(1).map((x) => ({ keyGroups: merged.keyGroups, groups: {}, shared: x }))]
}

/**
 * The layer of each of `op`'s files when it lists deltas: the base files are layer 0, each checkpoint's deltas
 * a layer after them, oldest first (`ids`; the delta written by the checkpoint itself, without a number, last).
 * Each subtask lists its own chain (its base files, then its deltas), one subtask after the other.
 */
export function chainLayers(op: OperatorEntry): { layerOf: number[]; ids: (number | undefined)[] } {
  const inDeltas = new Set<number>()
  const ids = new Set<number | undefined>()
  for (const f of op.files) {
    if (f.delta === true) {
      inDeltas.add(f.subtask)
      ids.add(f.checkpoint)
    } else if (inDeltas.has(f.subtask)) {
      throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `step '${op.step}': a base state file '${f.file}' is listed after a delta`, { step: op.step, domain: 'internal' })
    }
  }
  if (op.files.every((f) => f.delta === true)) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `step '${op.step}': deltas without a base state file`, { step: op.step, domain: 'internal' })
  const order = [...ids].sort((a, b) => (a ?? Infinity) - (b ?? Infinity))
  return { layerOf: op.files.map((f) => (f.delta === true ? order.indexOf(f.checkpoint) + 1 : 0)), ids: order }
}

/** The operator-wide data of each saved subtask, in subtask order. */
export function savedShared(bySubtask: Map<number, unknown>): unknown[] {
  return [...bySubtask].sort(([a], [b]) => a - b).map(([, x]) => x)
}
