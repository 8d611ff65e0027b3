import { resolveLocalRef } from '../../core/json-ref.ts'
import type { SchemaText } from '../compat/check.ts'

/** One top-level field of a contract's schema, as lineage, the catalog and privacy defaults see it. */
export interface ContractField {
  name: string
  /** The schema's type name: `string`, `integer`, `long`, a record's name, `union`... */
  type: string
  description?: string
  /** True when the contract tags the field (or one under it) as personal. */
  personal: boolean
}

/**
 * The top-level fields of a contract's schema (JSON Schema `properties`, Avro record `fields`), with the
 * personal ones marked.
 * @example contractFields(bids.schemaText, bids.personal) // [{ name: 'bidder', type: 'integer', personal: true }, ...]
 */
export function contractFields(schema: SchemaText, personal: readonly string[] = []): ContractField[] {
  let doc: unknown
  try {
    doc = JSON.parse(schema.schema)
  } catch {
    return []
  }
  const isPersonal = (name: string) => personal.some((p) => p === name || p.startsWith(`${name}.`))
  if (schema.schemaType === 'AVRO') {
    const fields = (doc as { fields?: unknown }).fields
    if (!Array.isArray(fields)) return []
    return fields.map((f: { name: string; type: unknown; doc?: string }) => ({ name: f.name, type: avroTypeName(f.type), ...(typeof f.doc === 'string' ? { description: f.doc } : {}), personal: isPersonal(f.name) }))
  }
  const props = (resolveLocalRef(doc, doc) as { properties?: Record<string, unknown> } | undefined)?.properties
  if (props === null || typeof props !== 'object') return []
  return Object.entries(props).map(([name, ref]) => [name, resolveLocalRef(ref, doc) as { type?: unknown; description?: unknown } | undefined] as const).map(([name, p]) => ({
    name,
    type: Array.isArray(p?.type) ? p.type.filter((t) => t !== 'null').join('|') || 'null' : typeof p?.type === 'string' ? p.type : 'any',
    ...(typeof p?.description === 'string' ? { description: p.description } : {}),
    personal: isPersonal(name),
  }))
}

function avroTypeName(t: unknown): string {
  if (typeof t === 'string') return t
  if (Array.isArray(t)) {
    const branches = t.filter((b) => b !== 'null').map(avroTypeName)
    return branches.length === 1 ? branches[0] : 'union'
  }
  if (t !== null && typeof t === 'object') {
    const o = t as { type?: unknown; name?: unknown; logicalType?: unknown }
    if (typeof o.logicalType === 'string') return o.logicalType
    return typeof o.name === 'string' ? o.name : avroTypeName(o.type)
  }
  return 'any'
}
