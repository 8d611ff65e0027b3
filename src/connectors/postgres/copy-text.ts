import type { ParquetType } from '../parquet/schema.ts'
import type { StagedRows } from '../sql/dialect.ts'

/** Postgres COPY text format: a backslash, tab, newline or carriage return in a value is escaped. */
const SPECIAL = /[\\\t\n\r]/

export function escapeText(s: string): string {
  if (!SPECIAL.test(s)) return s
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
}

const bigintsAsText = (_: string, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)

/** One value as `ColumnBuffer` converted it, in COPY text format (`\N` for null). */
export function copyValue(type: ParquetType, v: unknown): string {
  if (v === null || v === undefined) return '\\N'
  switch (type) {
    case 'int64':
    case 'double':
      return String(v)
    case 'string':
      return escapeText(v as string)
    case 'boolean':
      return v ? 't' : 'f'
    case 'timestamp':
      return new Date(Number(v as bigint)).toISOString()
    case 'json':
      return escapeText(JSON.stringify(v, bigintsAsText))
  }
}

/** Text of about this many characters is sent at a time. */
const CHUNK = 1 << 18

/**
 * The staged rows as COPY text, in chunks: the data columns, then `_sluice_key`, `_sluice_op`, `_sluice_seq`
 * and a null `_sluice_checkpoint`.
 */
export function* copyChunks(rows: StagedRows): Generator<string> {
  const { columns, ops, keys } = rows
  const n = ops.length
  let seq = rows.firstSeq
  let chunk = ''
  for (let i = 0; i < n; i++) {
    let line = ''
    for (let c = 0; c < columns.length; c++) line += copyValue(columns[c].type, columns[c].data[i]) + '\t'
    line += (keys === undefined ? '\\N' : escapeText(keys[i])) + '\t' + ops[i] + '\t' + String(seq++) + '\t\\N\n'
    chunk += line
    if (chunk.length >= CHUNK) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk !== '') yield chunk
}
