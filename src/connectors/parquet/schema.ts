import type { ColumnSource, SchemaElement } from 'hyparquet-writer'
import { INSERT, rowKindName, type Batch } from '../../core/batch.ts'
import { SluiceError } from '../../core/errors.ts'

/**
 * A column's type: `int64` (integers as numbers or bigints), `double`, `string`, `boolean`,
 * `timestamp` (a Date or epoch milliseconds; UTC, millisecond unit) or `json` (any value, stored as JSON text).
 * Every column is nullable: null and a missing field are both written as null.
 * @example sink.parquet('out/orders', { schema: { id: 'string', amount: 'double', qty: 'int64', at: 'timestamp', tags: 'json' } })
 */
export type ParquetType = 'int64' | 'double' | 'string' | 'boolean' | 'timestamp' | 'json'

/** Column names and types, in column order. @example { user: 'string', clicks: 'int64', at: 'timestamp' } */
export type ParquetSchema = Record<string, ParquetType>

const TYPES: readonly string[] = ['int64', 'double', 'string', 'boolean', 'timestamp', 'json']

/** The column a stream of changelog records gets: its kind as '+I', '-U', '+U' or '-D'. */
export const OP_COLUMN = 'op'

/** The column a record that is not an object is written to. */
export const VALUE_COLUMN = 'value'

/**
 * The option that declares a sink's column types: hints name it. The SQL sinks call it `columns`
 * (`sink.postgres` has a `schema` option too, but that is the database schema).
 */
function typesOption(sink: string): string {
  return sink === 'sink.duckdb' || sink === 'sink.postgres' ? 'columns' : 'schema'
}

export function checkSchema(schema: ParquetSchema, sink = 'sink.parquet'): void {
  const names = Object.keys(schema)
  if (names.length === 0) throw new SluiceError('SLUICE_BAD_OPTION', `${sink}: the ${typesOption(sink)} option declares no column`)
  for (const n of names) {
    if (!TYPES.includes(schema[n])) {
      throw new SluiceError('SLUICE_BAD_OPTION', `${sink}: column '${n}' has type '${String(schema[n])}'`, { hint: `use one of ${TYPES.join(', ')}` })
    }
  }
}

export function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) ? (v as Record<string, unknown>) : { [VALUE_COLUMN]: v }
}

function typeOf(v: unknown): ParquetType | undefined {
  switch (typeof v) {
    case 'number':
      return Number.isSafeInteger(v) ? 'int64' : 'double'
    case 'bigint':
      return 'int64'
    case 'string':
      return 'string'
    case 'boolean':
      return 'boolean'
    case 'object':
      return v === null ? undefined : v instanceof Date ? 'timestamp' : 'json'
    default:
      return undefined
  }
}

/**
 * The schema of a batch: each field's type from its non-null values (integers and other numbers mixed
 * give `double`). A field that is null in every record, or holds values of two types, is an error that asks
 * for a declared schema.
 */
export function inferSchema(batch: Batch<unknown>, step: string, sink = 'sink.parquet'): ParquetSchema {
  const schema: Record<string, ParquetType | null> = {}
  for (const v of batch.values) {
    const o = asObject(v)
    for (const name in o) {
      const t = typeOf(o[name])
      const known = schema[name]
      if (t === undefined) {
        if (known === undefined) schema[name] = null
      } else if (known === undefined || known === null || known === t) {
        schema[name] = t
      } else if ((known === 'int64' && t === 'double') || (known === 'double' && t === 'int64')) {
        schema[name] = 'double'
      } else {
        throw new SluiceError('SLUICE_SCHEMA_MISMATCH', `${sink}: field '${name}' holds both ${known} and ${t} values in the first batch`, {
          step,
          hint: `declare the column types with the ${typesOption(sink)} option`,
        })
      }
    }
  }
  const out: ParquetSchema = {}
  for (const name in schema) {
    const t = schema[name]
    if (t === null) {
      throw new SluiceError('SLUICE_SCHEMA_MISMATCH', `${sink}: field '${name}' is null in every record of the first batch, so its type is unknown`, {
        step,
        hint: `declare the column types with the ${typesOption(sink)} option`,
      })
    }
    out[name] = t
  }
  return out
}

/** The Parquet schema elements of a schema (all columns optional), with the op column if asked. */
export function schemaElements(schema: ParquetSchema, changelog: boolean): SchemaElement[] {
  const cols: SchemaElement[] = Object.entries(schema).map(([name, t]) => element(name, t))
  if (changelog) cols.push(element(OP_COLUMN, 'string'))
  return [{ name: 'root', num_children: cols.length }, ...cols]
}

function element(name: string, t: ParquetType): SchemaElement {
  const e: SchemaElement = { name, repetition_type: 'OPTIONAL' }
  switch (t) {
    case 'int64':
      return { ...e, type: 'INT64' }
    case 'double':
      return { ...e, type: 'DOUBLE' }
    case 'string':
      return { ...e, type: 'BYTE_ARRAY', converted_type: 'UTF8' }
    case 'boolean':
      return { ...e, type: 'BOOLEAN' }
    case 'timestamp':
      return { ...e, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } }
    case 'json':
      return { ...e, type: 'BYTE_ARRAY', converted_type: 'JSON' }
  }
}

type Convert = (v: unknown) => unknown

const NOT = Symbol('does not fit')

const converters: Record<ParquetType, Convert> = {
  int64: (v) => (typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v as number) : NOT),
  double: (v) => (typeof v === 'number' ? v : NOT),
  string: (v) => (typeof v === 'string' ? v : NOT),
  boolean: (v) => (typeof v === 'boolean' ? v : NOT),
  timestamp: (v) => (v instanceof Date ? BigInt(v.getTime()) : Number.isSafeInteger(v) ? BigInt(v as number) : NOT),
  json: (v) => v,
}

/** The same checks, keeping integers and epoch milliseconds as numbers (bigints stay bigints): for text formats. */
const numberConverters: Record<ParquetType, Convert> = {
  ...converters,
  int64: (v) => (typeof v === 'bigint' || Number.isSafeInteger(v) ? v : NOT),
  timestamp: (v) => (v instanceof Date ? v.getTime() : Number.isSafeInteger(v) ? v : NOT),
}

/** Rows of the row group being built, as one array per column, checked against the schema as they arrive. */
export class ColumnBuffer {
  readonly schema: ParquetSchema
  readonly names: string[]
  private readonly types: ParquetType[]
  private readonly index: Map<string, number>
  private readonly convert: Convert[]
  private readonly changelog: boolean
  private readonly step: string
  private readonly sink: string
  private data: unknown[][]
  private ops: string[] = []

  /** `numbers`: int64 and timestamp values stay numbers (bigints stay bigints) instead of becoming bigints. */
  constructor(schema: ParquetSchema, changelog: boolean, step: string, sink = 'sink.parquet', numbers = false) {
    this.sink = sink
    this.schema = schema
    this.names = Object.keys(schema)
    this.types = this.names.map((n) => schema[n])
    this.index = new Map(this.names.map((n, i) => [n, i]))
    this.convert = this.types.map((t) => (numbers ? numberConverters : converters)[t])
    this.changelog = changelog
    this.step = step
    this.data = this.names.map(() => [])
  }

  get length(): number {
    return this.data.length > 0 ? this.data[0].length : 0
  }

  /** Adds a batch's records; a record that does not fit the schema throws (earlier records of the batch stay). */
  add(batch: Batch<unknown>): void {
    const { values, kinds } = batch
    const cols = this.data
    const n = cols.length
    if (!this.changelog && kinds !== undefined && kinds.some((k) => k !== INSERT)) {
      throw new SluiceError('SLUICE_SCHEMA_MISMATCH', `sink.parquet: the stream carries updates and deletes, but the file has no '${OP_COLUMN}' column`, {
        step: this.step,
        hint: `pass { changelog: true } to sink.parquet: the column is added when the first batch carries changelog kinds, and a keyed aggregate's first batch may hold only inserts`,
      })
    }
    for (let i = 0; i < values.length; i++) {
      const o = asObject(values[i])
      let fields = 0
      for (let c = 0; c < n; c++) {
        const v = o[this.names[c]]
        if (v === undefined || v === null) {
          cols[c].push(null)
          if (v === null) fields++
          continue
        }
        fields++
        const x = this.convert[c](v)
        if (x === NOT) {
          for (let d = 0; d < c; d++) cols[d].pop()
          throw this.mismatch(`field '${this.names[c]}' is ${describe(v)}, not ${this.types[c]}`, batch, i)
        }
        cols[c].push(x)
      }
      let keys = 0
      for (const _ in o) keys++
      if (keys !== fields) {
        // More keys than schema fields set: one is not in the schema, unless the extra keys are undefined.
        const extra = Object.keys(o).find((k) => !this.index.has(k) && o[k] !== undefined)
        if (extra !== undefined) {
          for (let d = 0; d < n; d++) cols[d].pop()
          throw this.mismatch(`field '${extra}' is not in the file's schema (${this.names.join(', ')})`, batch, i)
        }
      }
      if (this.changelog) this.ops.push(rowKindName(kinds === undefined ? INSERT : kinds[i]))
    }
  }

  private mismatch(what: string, batch: Batch<unknown>, i: number): SluiceError {
    const position = batch.pos?.[i]
    return new SluiceError('SLUICE_SCHEMA_MISMATCH', `${this.sink}: a record does not fit the schema: ${what}`, {
      step: this.step,
      ...(position === undefined ? {} : { position }),
      hint: `declare the column types with the ${typesOption(this.sink)} option, or map the records to the declared shape before the sink`,
    })
  }

  /** Drops the rows after the first `length` (what a failed `add` left of its batch). */
  truncate(length: number): void {
    for (const col of this.data) col.length = Math.min(col.length, length)
    if (this.ops.length > length) this.ops.length = length
  }

  /** The first `rows` buffered rows (all by default) as hyparquet column data; the rest stay buffered. */
  take(rows = this.length): ColumnSource[] {
    const all = rows >= this.length
    const out: ColumnSource[] = this.names.map((name, c) => ({ name, data: (all ? this.data[c] : this.data[c].splice(0, rows)) as ColumnSource['data'] }))
    if (this.changelog) out.push({ name: OP_COLUMN, data: all ? this.ops : this.ops.splice(0, rows) })
    if (all) {
      this.data = this.names.map(() => [])
      this.ops = []
    }
    return out
  }
}

function describe(v: unknown): string {
  const t = typeOf(v)
  if (t === 'int64') return 'an integer'
  if (t === 'double') return 'a fractional number'
  if (t === 'json') return Array.isArray(v) ? 'an array' : 'an object'
  return t === undefined ? typeof v : `a ${t}`
}
