import { serialize } from 'node:v8'
import { SluiceError } from '../../core/errors.ts'
import { keyGroupOf, keyId } from '../../core/key.ts'
import type { EntryColumns, KeyedRestore, KeyedSnapshot, StateRow } from '../../core/operator.ts'
import { stateOperator } from '../../connectors/state/state-operator.ts'
import { operatorStates } from '../../checkpoint/incremental.ts'
import type { OperatorEntry } from '../../checkpoint/manifest.ts'
import { redistributeKeyed, isKeyedSnapshot } from '../../checkpoint/redistribute.ts'
import { decodeState } from '../../checkpoint/state-file.ts'
import type { CheckpointRead } from '../../checkpoint/storage.ts'

/** One step's state in a checkpoint or savepoint, as `sluice state` lists it. */
export interface StepStateSummary {
  step: string
  kind: string
  keyed: boolean
  /** State files (a base and its deltas count one each) and their bytes on disk. */
  files: number
  bytes: number
  /** Keyed steps: keys holding any state (entries or timers), and per key group its keys and serialized bytes. */
  keys?: number
  groups?: { group: number; keys: number; bytes: number }[]
}

/** What one key holds in one step: each named list's entries for the key (windows, buffers, timers, states). */
export interface KeyState {
  step: string
  key: string
  group: number
  lists: Record<string, unknown[]>
  /**
   * The key's state as the state API reads it (readState's rows without the key: one per open window of a
   * windowed step), for the step kinds it reads.
   */
  rows?: Omit<StateRow, 'key'>[]
}

/**
 * Reads what a checkpoint or savepoint holds, step by step, without running the pipeline: the files of
 * every step, and for keyed steps the keys and sizes per key group, or the state of one key.
 *
 * @example
 * const inspector = new StateInspector(await readCheckpointFolder('savepoints/before-upgrade'))
 * inspector.summary('window-1')[0].keys // keys holding windows
 * inspector.key('window-1', 'eu')        // { lists: { windows: [...], event: [1999] } }
 */
export class StateInspector {
  private readonly read: CheckpointRead

  constructor(read: CheckpointRead) {
    this.read = read
  }

  /** Every step with state, or the one named `step`. */
  summary(step?: string): StepStateSummary[] {
    return this.operators(step).map((op) => {
      const s: StepStateSummary = { step: op.step, kind: op.kind, keyed: op.keyed, files: op.files.length, bytes: op.files.reduce((n, f) => n + f.bytes, 0) }
      const merged = this.keyed(op)
      if (merged === undefined) return s
      const all = new Set<unknown>()
      s.groups = []
      for (const [g, data] of Object.entries(merged.groups)) {
        const ids = new Set<unknown>()
        forEachEntry(data, (_list, id) => ids.add(id))
        for (const id of ids) all.add(id)
        s.groups.push({ group: Number(g), keys: ids.size, bytes: serialize(data).byteLength })
      }
      s.groups.sort((a, b) => a.group - b.group)
      s.keys = all.size
      return s
    })
  }

  /**
   * The state of one key in keyed step `step`: `key` is the key's text (a string key as it is, any other as
   * JSON, as in the step's output).
   */
  key(step: string, key: string): KeyState {
    const op = this.operators(step)[0]
    const merged = this.keyed(op)
    if (merged === undefined) throw new SluiceError('SLUICE_STATE_SNAPSHOT', `step '${step}' has no keyed state`, { hint: 'sluice state <folder> lists the steps and whether they are keyed' })
    const lists: Record<string, unknown[]> = {}
    let group = -1
    for (const [g, data] of Object.entries(merged.groups)) {
      forEachEntry(data, (list, id, entry) => {
        if (keyText(id) !== key) return
        group = Number(g)
        ;(lists[list] ??= []).push(entry)
      })
    }
    if (group === -1) group = keyGroupOf(key, merged.keyGroups)
    const rows = this.rows(op, merged, group, key)
    return { step, key, group, lists, ...(rows !== undefined ? { rows } : {}) }
  }

  /** The key's rows as readState gives them, restored from its key group alone; undefined for kinds it does not read. */
  private rows(op: OperatorEntry, merged: KeyedRestore, group: number, key: string): Omit<StateRow, 'key'>[] | undefined {
    const reader = stateOperator(this.read.manifest.pipeline, op.step, op.kind)
    if (reader?.restore === undefined || reader.stateRows === undefined) return undefined
    const data = merged.groups[group]
    // With the step's operator-wide data: a process function's describes its states, which its entries need.
    reader.restore({ keyGroups: merged.keyGroups, groups: data === undefined ? {} : { [group]: data }, shared: merged.shared })
    return [...reader.stateRows()].filter((r) => keyText(keyId(r.key)) === key).map(({ key: _key, ...rest }) => rest)
  }

  private operators(step?: string): OperatorEntry[] {
    const ops = this.read.manifest.operators
    if (step === undefined) return ops
    const op = ops.find((o) => o.step === step)
    if (op === undefined) {
      throw new SluiceError('SLUICE_STATE_SNAPSHOT', `no state for step '${step}' in ${this.read.manifest.kind} ${this.read.manifest.id}`, {
        hint: `steps with state: ${ops.map((o) => o.step).join(', ') || 'none'}`,
      })
    }
    return [op]
  }

  /** The step's subtasks' snapshots merged into one (deltas applied), or undefined for a step not split by key group. */
  private keyed(op: OperatorEntry): KeyedRestore | undefined {
    if (!op.keyed) return undefined
    const states = operatorStates(op, (f) => decodeState(this.read.file(f)))
    if (states.length === 0 || !states.every(isKeyedSnapshot)) return undefined
    return redistributeKeyed(states as KeyedSnapshot[], 1)[0]
  }
}

/** A key's identity as text: a string key as it is, any other as JSON. */
function keyText(id: unknown): string {
  return typeof id === 'string' ? id : JSON.stringify(id)
}

/**
 * Calls `fn` with every per-key entry of a key group's data: the operators' entry lists (columns of keys and
 * data) and the backend's states (`state`: entries by state, each `[id, namespace, value, expiry]`; `cells`, in
 * incremental checkpoints: one entry per cell, `[state, namespace, id, value, expiry]`).
 */
function forEachEntry(data: unknown, fn: (list: string, id: unknown, entry: unknown) => void): void {
  if (typeof data !== 'object' || data === null) return
  for (const [list, v] of Object.entries(data as Record<string, unknown>)) {
    const cols = v as Partial<EntryColumns>
    if (list === 'cells' && Array.isArray(cols.d)) {
      // A keyed process step's cells in an incremental checkpoint: `[state, namespace, id, value, expiry]`.
      for (const d of cols.d as unknown[][]) if (Array.isArray(d)) fn(String(d[0]), d[2], { namespace: d[1], value: d[3], expiry: d[4] })
    } else if (Array.isArray(cols.k) && Array.isArray(cols.d)) {
      for (let i = 0; i < cols.k.length; i++) fn(list, keyId(cols.k[i]), cols.d[i])
    } else if (list === 'state' && typeof v === 'object' && v !== null) {
      for (const [sid, entries] of Object.entries(v as Record<string, unknown[]>)) {
        if (Array.isArray(entries)) for (const e of entries as [unknown, unknown, unknown, unknown][]) fn(sid, e[0], { namespace: e[1], value: e[2], expiry: e[3] })
      }
    }
  }
}
