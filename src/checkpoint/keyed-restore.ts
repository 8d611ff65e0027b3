// A keyed step's state as each subtask restores it, kept encoded until the operator reads it: each key group
// is decoded (and its deltas applied) when its operator asks for it, and dropped once read. Nothing decodes a
// whole step's state on the coordinating thread, so a state larger than the heap (the durable backend's) can
// be restored one key group at a time.
import { userError, SluiceError } from '../core/errors.ts'
import { subtaskOfKeyGroup } from '../core/key.ts'
import type { KeyedRestore } from '../core/operator.ts'
import { chainLayers, mergeGroup, savedShared } from './incremental.ts'
import type { OperatorEntry, StateFileRef } from './manifest.ts'
import type { CheckpointRead } from './storage.ts'
import { decodeGroup, keyedFileLayout } from './state-file.ts'

const FORMAT = 'sluice-encoded-keyed/1'

/** What one subtask restores of a keyed step: the bytes of each key group it owns, in each layer. */
export interface EncodedKeyedRestore {
  format: typeof FORMAT
  keyGroups: number
  /** Operator-wide data of the saved subtasks, as `KeyedRestore.shared`. */
  shared: unknown[]
  /** Layers of state: 1 for a full checkpoint, else the base and then each delta, oldest first. */
  layers: number
  /**
   * Per key group: its bytes in each layer (null where a layer does not hold it), or on the thread that read the
   * checkpoint a function that reads them (from a state file left on disk).
   */
  groups: [keyGroup: number, bytes: GroupBytes[]][]
}

type GroupBytes = Uint8Array | (() => Uint8Array) | null

const bytesOf = (b: Uint8Array | (() => Uint8Array)): Uint8Array => (typeof b === 'function' ? b() : b)

export function isEncodedKeyedRestore(s: unknown): s is EncodedKeyedRestore {
  return typeof s === 'object' && s !== null && (s as { format?: unknown }).format === FORMAT
}

/**
 * What each of `subtasks` subtasks restores of keyed step `op`, undecoded; the same key groups, shared data and
 * errors as decoding every file, merging the deltas (`operatorStates`) and redistributing (`redistributeKeyed`).
 * Undefined when a file is of the layout before key group indexes, or not split by key group: decode it whole.
 */
export function planKeyedRestores(op: OperatorEntry, snap: Pick<CheckpointRead, 'file' | 'range'>, subtasks: number, keyGroups: number): EncodedKeyedRestore[] | undefined {
  const indexes = []
  for (const f of op.files) {
    const read = snap.range !== undefined ? (offset: number, length: number) => snap.range!(f, offset, length) : (offset: number, length: number) => snap.file(f).subarray(offset, offset + length)
    const layout = keyedFileLayout(f.bytes, read)
    if (layout === undefined) return undefined
    indexes.push({ ...layout, read })
  }
  const incremental = op.files.some((f) => f.delta === true)
  // Without deltas each file is one saved snapshot, all in one layer.
  const { layerOf, ids } = incremental ? chainLayers(op) : { layerOf: op.files.map(() => 0), ids: [] }
  const layers = ids.length + 1
  const out: EncodedKeyedRestore[] = Array.from({ length: subtasks }, () => ({ format: FORMAT, keyGroups, shared: [], layers, groups: [] }))
  const byGroup = new Map<number, { bytes: GroupBytes[]; from: number[] }>()
  const newestShared = new Map<number, unknown>()
  indexes.forEach((index, i) => {
    if (index.keyGroups !== keyGroups) {
      throw userError('SLUICE_STATE_KEY_GROUPS', `state: the snapshot of subtask ${i} has ${index.keyGroups} key groups, expected ${keyGroups}`, {
        hint: 'the number of key groups is fixed for the life of a job; restore with the same keyGroups',
      })
    }
    const layer = layerOf[i]
    for (const [g, offset, length] of index.groups) {
      if (!Number.isInteger(g) || g < 0 || g >= keyGroups) throw userError('SLUICE_STATE_SNAPSHOT', `state: the snapshot of subtask ${i} holds key group '${g}', outside 0..${keyGroups - 1}`)
      let e = byGroup.get(g)
      if (e === undefined) byGroup.set(g, (e = { bytes: new Array<GroupBytes>(layers).fill(null), from: new Array<number>(layers).fill(-1) }))
      if (e.bytes[layer] !== null) {
        if (incremental) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `incremental state: key group ${g} is in two state files of ${layer === 0 ? `the base of step '${op.step}'` : 'one delta'}`, { domain: 'internal' })
        throw userError('SLUICE_STATE_SNAPSHOT', `state: key group ${g} is in the snapshots of both subtask ${e.from[layer]} and subtask ${i}`)
      }
      e.bytes[layer] = () => index.read(offset, length)
      e.from[layer] = i
    }
    if (!incremental) for (const r of out) r.shared.push(index.shared)
    else if (index.shared !== undefined) newestShared.set(op.files[i].subtask, index.shared)
  })
  // With deltas: each saved subtask's newest operator-wide data (as a full checkpoint gives every subtask's).
  if (incremental) {
    const shared = savedShared(newestShared)
    for (const r of out) r.shared.push(...(shared.length === 0 ? [undefined] : shared))
  }
  for (const [g, e] of [...byGroup].sort(([a], [b]) => a - b)) out[subtaskOfKeyGroup(g, subtasks, keyGroups)].groups.push([g, e.bytes])
  return out
}

/**
 * `r` with its bytes read and copied into one buffer of its own: what a restore sent to another thread carries
 * (views of the checkpoint's files would take every file along, and a function cannot be sent).
 */
export function detachKeyedRestore(r: EncodedKeyedRestore): EncodedKeyedRestore {
  const read = r.groups.map(([g, bytes]): [number, (Uint8Array | null)[]] => [g, bytes.map((b) => (b === null ? null : bytesOf(b)))])
  let total = 0
  for (const [, bytes] of read) for (const b of bytes) if (b !== null) total += b.byteLength
  const buf = Buffer.allocUnsafeSlow(total)
  let at = 0
  const groups = read.map(([g, bytes]): [number, (Uint8Array | null)[]] => [
    g,
    bytes.map((b) => {
      if (b === null) return null
      buf.set(b, at)
      at += b.byteLength
      return buf.subarray(at - b.byteLength, at)
    }),
  ])
  return { ...r, groups }
}

/**
 * The restore an operator reads: each key group is decoded, its deltas applied, when it is read, and not kept;
 * read it once (`for…in`, or `Object.values` where all of it is wanted in memory anyway).
 */
export function openKeyedRestore(r: EncodedKeyedRestore): KeyedRestore {
  // Positions of later layers come after all of the earlier ones' (no layer holds this many entries).
  const stride = Math.floor(Number.MAX_SAFE_INTEGER / r.layers)
  const offsets = Array.from({ length: r.layers }, (_, i) => i * stride)
  const groups: Record<number, unknown> = {}
  for (const [g, bytes] of r.groups) {
    Object.defineProperty(groups, g, {
      enumerable: true,
      get: () => {
        const datas = bytes.map((b) => (b === null ? undefined : (decodeGroup(bytesOf(b), g) as Record<string, unknown>)))
        return r.layers === 1 ? datas[0] : mergeGroup(datas, g, offsets)
      },
    })
  }
  return { keyGroups: r.keyGroups, groups, shared: r.shared }
}
