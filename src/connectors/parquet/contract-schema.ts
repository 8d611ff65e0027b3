import type { ContractRef } from '../../core/contract-ref.ts'
import { resolveLocalRef } from '../../core/json-ref.ts'
import type { ParquetSchema, ParquetType } from './schema.ts'

/**
 * The columns a data contract's schema gives a sink (Parquet files, DuckDB and Postgres tables): one per
 * top-level field, in the schema's order. JSON Schema `integer` is int64, `number` double, `string` string,
 * `boolean` boolean; Avro `int`/`long` int64 (`timestamp-millis` timestamp), `float`/`double` double,
 * `string` and enums string, `boolean` boolean (local `$ref`s followed). A union with null is its other branch; any other type (an
 * object, an array, a union of types) is a json column. Undefined when the schema has no fields.
 * @example contractColumns({ schemaType: 'JSON', schema: '{"properties":{"id":{"type":"integer"}}}' }) // { id: 'int64' }
 */
export function contractColumns(schema: ContractRef['schemaText']): ParquetSchema | undefined {
  if (schema === undefined) return undefined
  let doc: unknown
  try {
    doc = JSON.parse(schema.schema)
  } catch {
    return undefined
  }
  const out: ParquetSchema = {}
  if (schema.schemaType === 'AVRO') {
    const fields = (doc as { fields?: unknown }).fields
    if (!Array.isArray(fields)) return undefined
    for (const f of fields as { name: string; type: unknown }[]) out[f.name] = avroColumn(f.type)
  } else {
    const props = (resolveLocalRef(doc, doc) as { properties?: unknown } | undefined)?.properties
    if (props === null || typeof props !== 'object') return undefined
    for (const [name, p] of Object.entries(props as Record<string, unknown>)) out[name] = jsonColumn(resolveLocalRef(p, doc))
  }
  return Object.keys(out).length === 0 ? undefined : out
}

function jsonColumn(p: unknown): ParquetType {
  if (p === null || typeof p !== 'object') return 'json'
  const s = p as { type?: unknown; anyOf?: unknown; enum?: unknown }
  let types: unknown[] = Array.isArray(s.type) ? s.type : s.type !== undefined ? [s.type] : []
  // zod writes a nullable field as anyOf [T, { type: 'null' }]
  if (types.length === 0 && Array.isArray(s.anyOf)) types = s.anyOf.map((x: { type?: unknown }) => x?.type)
  if (types.length === 0 && Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string')) return 'string'
  const t = types.filter((x) => x !== 'null')
  if (t.length === 2 && t.includes('integer') && t.includes('number')) return 'double'
  if (t.length !== 1) return 'json'
  return t[0] === 'integer' ? 'int64' : t[0] === 'number' ? 'double' : t[0] === 'string' ? 'string' : t[0] === 'boolean' ? 'boolean' : 'json'
}

function avroColumn(t: unknown): ParquetType {
  if (Array.isArray(t)) {
    const branches = t.filter((b) => b !== 'null')
    return branches.length === 1 ? avroColumn(branches[0]) : 'json'
  }
  if (t !== null && typeof t === 'object') {
    const o = t as { type?: unknown; logicalType?: unknown }
    if (o.logicalType === 'timestamp-millis' || o.logicalType === 'timestamp-micros') return 'timestamp'
    if (o.type === 'enum') return 'string'
    return typeof o.type === 'string' && !['record', 'array', 'map', 'fixed'].includes(o.type) ? avroColumn(o.type) : 'json'
  }
  switch (t) {
    case 'int':
    case 'long':
      return 'int64'
    case 'float':
    case 'double':
      return 'double'
    case 'string':
      return 'string'
    case 'boolean':
      return 'boolean'
    default:
      return 'json'
  }
}
