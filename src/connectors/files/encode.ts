import { INSERT, rowKindName, type Batch, type RowKind } from '../../core/batch.ts'
import { unwritable } from '../../core/record-errors.ts'
import type { SinkContext } from '../../core/sink.ts'

/**
 * One JSON line per record; a record JSON cannot hold (a BigInt, deep nesting, undefined) goes to `ctx.reject`
 * (the pipeline's error path), or throws SLUICE_RECORD_UNWRITABLE without it. Inserts are written as the value itself; other changelog kinds add an `op`
 * field ('-U', '+U', '-D') to object values, or wrap other values as `{ op, value }`.
 */
export function encodeJsonLines(batch: Batch<unknown>, ctx?: Pick<SinkContext, 'stepId' | 'reject'>): string {
  const { values, kinds } = batch
  let s = ''
  for (let i = 0; i < values.length; i++) {
    let line: string | undefined
    try {
      line = encodeJson(values[i], kinds === undefined ? INSERT : kinds[i])
    } catch (e) {
      line = undefined
      if (ctx?.reject === undefined) throw unwritable(ctx?.stepId ?? 'sink', e)
      ctx.reject(batch, i, unwritable(ctx.stepId, e))
      continue
    }
    // JSON.stringify gives undefined for undefined, functions and Symbols: no line to write.
    if (line === undefined) {
      const e = unwritable(ctx?.stepId ?? 'sink', undefined)
      if (ctx?.reject === undefined) throw e
      ctx.reject(batch, i, e)
      continue
    }
    s += line + '\n'
  }
  return s
}

/** One record as JSON text, its changelog kind encoded as in `encodeJsonLines`. */
export function encodeJson(v: unknown, k: RowKind): string | undefined {
  if (k === INSERT) return JSON.stringify(v)
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return JSON.stringify({ op: rowKindName(k), ...v })
  return JSON.stringify({ op: rowKindName(k), value: v })
}
