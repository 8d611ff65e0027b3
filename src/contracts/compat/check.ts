import { avroReadDifferences, parseAvro } from './avro.ts'
import { jsonSchemaReadDifferences } from './json-schema.ts'
import type { CompatibilityLevel, Difference } from './difference.ts'

export type SchemaType = 'AVRO' | 'JSON'

/** A schema as the registry holds it: its type and its text. */
export interface SchemaText {
  schemaType: SchemaType
  schema: string
}

/** Why `reader` cannot read what `writer` wrote; both of the same type. */
export function readDifferences(reader: SchemaText, writer: SchemaText): Difference[] {
  if (reader.schemaType !== writer.schemaType) return [{ path: '', kind: 'SCHEMA_TYPE_CHANGED', message: `schema type changed from ${writer.schemaType} to ${reader.schemaType}` }]
  if (reader.schemaType === 'AVRO') return avroReadDifferences(parseAvro(reader.schema), parseAvro(writer.schema))
  return jsonSchemaReadDifferences(JSON.parse(reader.schema), JSON.parse(writer.schema))
}

/**
 * The breaking differences between a new schema and the earlier versions of a subject (oldest first) under a
 * compatibility level: BACKWARD means the new schema reads data written with the latest one, FORWARD that the
 * latest reads the new one's data, FULL both; *_TRANSITIVE checks every earlier version, not only the latest.
 * Each difference's message names the version it breaks with.
 * @example compatibilityDifferences(v3, [v1, v2], 'BACKWARD_TRANSITIVE')
 */
export function compatibilityDifferences(candidate: SchemaText, previous: { version: number; schema: SchemaText }[], level: CompatibilityLevel): Difference[] {
  if (level === 'NONE' || previous.length === 0) return []
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1)
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL')
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL')
  const out: Difference[] = []
  for (const p of against) {
    if (backward) for (const d of readDifferences(candidate, p.schema)) out.push({ ...d, message: `reading data of version ${p.version}: ${d.message}` })
    if (forward) for (const d of readDifferences(p.schema, candidate)) out.push({ ...d, message: `version ${p.version} reading new data: ${d.message}` })
  }
  return out
}
