import type { ParquetType } from '../parquet/schema.ts'
import type { StagedRows } from '../sql/dialect.ts'

/** Postgres COPY text format: a backslash, tab, newline or carriage return in a value is escaped. */
const SPECIAL = /[\\\t\n\r]/

export function escapeText(s: string): string {
  if (!SPECIAL.test(s)) return s
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
}

const bigintsAsText = (_: string, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)

/** How a non-null value of each column type (as `ColumnBuffer` converted it) is written in COPY text. */
const ENCODE: Record<ParquetType, (v: unknown) => string> = {
  int64: String,
  double: String,
  string: (v) => escapeText(v as string),
  boolean: (v) => (v ? 't' : 'f'),
  timestamp: (v) => new Date(Number(v as number | bigint)).toISOString(),
  json: (v) => escapeText(JSON.stringify(v, bigintsAsText)),
}

/** One value in COPY text format (`\N` for null). */
export function copyValue(type: ParquetType, v: unknown): string {
  return v === null || v === undefined ? '\\N' : ENCODE[type](v)
}

/** Text of about this many characters is sent at a time. */
const CHUNK = 1 << 18

/**
 * Rows as COPY text, in chunks: the data columns, then for a staging table (`staged`) `_sluice_key`,
 * `_sluice_op`, `_sluice_seq` and a null `_sluice_checkpoint` (with `appendOnly`, `_sluice_seq` alone).
 */
export function* copyChunks(rows: StagedRows, staged: boolean): Generator<Buffer> {
  const { ops, keys } = rows
  const data = rows.columns.map((c) => c.data)
  const encode = rows.columns.map((c) => ENCODE[c.type])
  const last = data.length - 1
  const appendOnly = rows.appendOnly === true
  const n = ops.length
  let seq = rows.firstSeq
  let chunk = ''
  for (let i = 0; i < n; i++) {
    for (let c = 0; c <= last; c++) {
      const v = data[c][i]
      chunk += v === null || v === undefined ? '\\N' : encode[c](v)
      chunk += c < last || staged ? '\t' : '\n'
    }
    if (staged && appendOnly) chunk += seq++ + '\n'
    else if (staged) chunk += (keys === undefined ? '\\N' : escapeText(keys[i])) + '\t' + ops[i] + '\t' + seq++ + '\t\\N\n'
    if (chunk.length >= CHUNK) {
      yield Buffer.from(chunk)
      chunk = ''
    }
  }
  if (chunk !== '') yield Buffer.from(chunk)
}
