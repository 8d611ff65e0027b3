import { INSERT, rowKindName, type Batch, type RowKind } from '../../core/batch.ts'

/**
 * One JSON line per record. Inserts are written as the value itself; other changelog kinds add an `op`
 * field ('-U', '+U', '-D') to object values, or wrap other values as `{ op, value }`.
 */
export function encodeJsonLines(batch: Batch<unknown>): string {
  const { values, kinds } = batch
  let s = ''
  for (let i = 0; i < values.length; i++) s += encodeJson(values[i], kinds === undefined ? INSERT : kinds[i]) + '\n'
  return s
}

/** One record as JSON text, its changelog kind encoded as in `encodeJsonLines`. */
export function encodeJson(v: unknown, k: RowKind): string {
  if (k === INSERT) return JSON.stringify(v)
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return JSON.stringify({ op: rowKindName(k), ...v })
  return JSON.stringify({ op: rowKindName(k), value: v })
}
