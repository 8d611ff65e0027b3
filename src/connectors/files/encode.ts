import { INSERT, rowKindName, type Batch } from '../../core/batch.ts'

/**
 * One JSON line per record. Inserts are written as the value itself; other changelog kinds add an `op`
 * field ('-U', '+U', '-D') to object values, or wrap other values as `{ op, value }`.
 */
export function encodeJsonLines(batch: Batch<unknown>): string {
  const { values, kinds } = batch
  let s = ''
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    const k = kinds === undefined ? INSERT : kinds[i]
    if (k === INSERT) s += JSON.stringify(v) + '\n'
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) s += JSON.stringify({ op: rowKindName(k), ...v }) + '\n'
    else s += JSON.stringify({ op: rowKindName(k), value: v }) + '\n'
  }
  return s
}
