import { z } from 'zod'
import { userError } from '../../core/errors.ts'
import { parseAvro } from '../compat/avro.ts'
import type { SchemaText } from '../compat/check.ts'
import type { InferRecord } from './infer.ts'
import { checkRule, type FieldRule } from './rules.ts'
import { avroValidator, jsonSchemaValidator, type RecordValidator } from './validator.ts'
import { hasRefinements, withRefinements } from './zod-refinements.ts'

/**
 * What a contract declares: the dataset's name, its schema (a zod schema, a JSON Schema or an Avro schema),
 * who owns it, what it is, which fields hold personal data, and rules on fields that every record must keep.
 * @example contract({ name: 'bids', schema: z.object({ price: z.number() }), rules: [{ field: 'price', rule: 'inRange', min: 0 }] })
 */
export interface ContractSpec<S> {
  /** The dataset's name: the subject in a schema registry is `<name>-value` unless `subject` says otherwise. */
  name: string
  schema: S
  /** The subject under which the schema is registered. */
  subject?: string
  /** The version of the contract's schema (the registry's version when known). Default 1. */
  version?: number
  owner?: string
  description?: string
  /** Paths (`a.b`) of fields that hold personal data. */
  personal?: readonly string[]
  /** Field rules checked at the edge with the schema. */
  rules?: readonly FieldRule[]
}

/**
 * The schema's language: found from the schema (a zod schema; an Avro record, enum or fixed; else JSON Schema).
 * @example loadContract('contracts/bids.yaml').format // 'avro' or 'json-schema'; a contract made with a zod schema says 'zod'
 */
export type ContractFormat = 'zod' | 'json-schema' | 'avro'

/**
 * A data contract: a schema with its owner, description, personal fields and rules, whose record type `T` is
 * inferred from the schema. Attach it to a source with `withContract`; `sluice check --contracts` compares it
 * with a schema registry.
 * @example const bids = contract({ name: 'bids', owner: 'auctions', schema: z.object({ auction: z.number(), price: z.number().min(0) }) })
 */
export interface Contract<T> {
  readonly name: string
  readonly subject: string
  readonly version: number
  readonly owner: string | undefined
  readonly description: string | undefined
  readonly personal: readonly string[]
  readonly rules: readonly FieldRule[]
  readonly format: ContractFormat
  /** The schema as a registry holds it (zod schemas as JSON Schema). */
  readonly schemaText: SchemaText
  /** The compiled validator (built on first use). */
  validator(): RecordValidator
  /** Plain data for `describe` and reports. */
  describe(): Record<string, unknown>
  /** Carries the record type; never set. */
  readonly __record?: T
}

/**
 * Declares a contract; the record type is inferred from the schema (write JSON and Avro schemas inline or `as const`).
 * @example const bids = contract({ name: 'bids', owner: 'auctions', personal: ['bidder'], schema: { type: 'record', name: 'Bid', fields: [{ name: 'price', type: 'long' }] } })
 */
export function contract<const S>(spec: ContractSpec<S>): Contract<InferRecord<S>> {
  if (spec === null || typeof spec !== 'object' || typeof spec.name !== 'string' || spec.name === '') throw userError('SLUICE_BAD_CONTRACT', "a contract needs a 'name'")
  const where = `contract '${spec.name}'`
  const format = formatOf(spec.schema)
  let schemaText: SchemaText
  let build: () => RecordValidator
  const rules = (spec.rules ?? []).map((r, i) => wrap(where, () => checkRule(r, `rule ${i + 1}`)))
  if (format === 'avro') {
    const type = wrap(where, () => parseAvro(spec.schema as object))
    schemaText = { schemaType: 'AVRO', schema: JSON.stringify(spec.schema) }
    build = () => avroValidator(type, rules)
  } else {
    const json = format === 'zod' ? wrap(where, () => z.toJSONSchema(spec.schema as z.ZodType, { io: 'input' }) as object) : (spec.schema as object)
    schemaText = { schemaType: 'JSON', schema: JSON.stringify(json) }
    const refined = format === 'zod' && hasRefinements(spec.schema as z.ZodType)
    build = () => wrap(where, () => (refined ? withRefinements(jsonSchemaValidator(json, rules), spec.schema as z.ZodType) : jsonSchemaValidator(json, rules)))
  }
  const version = spec.version ?? 1
  if (!Number.isSafeInteger(version) || version < 1) throw userError('SLUICE_BAD_CONTRACT', `${where}: version must be a positive integer`)
  let validator: RecordValidator | undefined
  const c: Contract<InferRecord<S>> = {
    name: spec.name,
    subject: spec.subject ?? `${spec.name}-value`,
    version,
    owner: spec.owner,
    description: spec.description,
    personal: [...(spec.personal ?? [])],
    rules,
    format,
    schemaText,
    validator: () => (validator ??= build()),
    describe: () => ({ name: c.name, subject: c.subject, version: c.version, format, ...(c.owner !== undefined ? { owner: c.owner } : {}), personal: c.personal, rules: c.rules.length }),
  }
  return c
}

function formatOf(schema: unknown): ContractFormat {
  if (schema instanceof z.ZodType) return 'zod'
  if (typeof schema === 'string') return 'avro' // a primitive Avro type name
  if (schema === null || typeof schema !== 'object') throw userError('SLUICE_BAD_CONTRACT', 'a contract schema must be a zod schema, a JSON Schema or an Avro schema')
  const t = (schema as { type?: unknown }).type
  if (Array.isArray(schema) || t === 'record' || t === 'enum' || t === 'fixed' || (t === 'map' && 'values' in schema) || (t === 'array' && typeof (schema as { items?: unknown }).items === 'string')) return 'avro'
  return 'json-schema'
}

function wrap<R>(where: string, fn: () => R): R {
  try {
    return fn()
  } catch (e) {
    throw userError('SLUICE_BAD_CONTRACT', `${where}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, hint: 'fix the contract schema or rules' })
  }
}
