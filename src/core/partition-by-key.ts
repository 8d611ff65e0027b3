import type { Batch } from './batch.ts'
import { subtaskOfKey } from './key.ts'

/** Splits a keyed batch (keys present) into one batch per subtask that owns some of its keys. */
export function partitionByKey(batch: Batch, parallelism: number): (Batch | undefined)[] {
  const keys = batch.keys!
  const n = keys.length
  const parts: (Batch | undefined)[] = new Array(parallelism).fill(undefined)
  if (n === 0) return parts
  const target = new Int32Array(n)
  let first = -1
  let single = true
  for (let i = 0; i < n; i++) {
    const s = subtaskOfKey(keys[i], parallelism)
    target[i] = s
    if (first < 0) first = s
    else if (s !== first) single = false
  }
  if (single) {
    parts[first] = batch
    return parts
  }
  const { values, times, kinds, pos, traces } = batch
  for (let i = 0; i < n; i++) {
    const s = target[i]
    let b = parts[s]
    if (b === undefined) {
      b = { values: [], times: [], keys: [] }
      if (kinds !== undefined) b.kinds = []
      if (pos !== undefined) b.pos = []
      if (traces !== undefined) b.traces = []
      parts[s] = b
    }
    b.values.push(values[i])
    b.times.push(times[i])
    b.keys!.push(keys[i])
    if (kinds !== undefined) b.kinds!.push(kinds[i])
    if (pos !== undefined) b.pos!.push(pos[i])
    if (traces !== undefined) b.traces!.push(traces[i])
  }
  // A part none of whose records has a trace context carries no array for them.
  if (traces !== undefined) for (const b of parts) if (b !== undefined && b.traces!.every((t) => t === undefined)) delete b.traces
  return parts
}
