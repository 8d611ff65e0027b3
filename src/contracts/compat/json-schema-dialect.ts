import type { Ajv, Options } from 'ajv'
import { lazyRequire } from '../../core/lazy-require.ts'

const DRAFT_07 = 'http://json-schema.org/draft-07/schema'
const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema'

type AjvClass = new (o: Options) => Ajv
// ajv is loaded on first use: contracts are declared at import time, most runs never compile a JSON Schema.
const ajv07 = lazyRequire<typeof import('ajv')>(import.meta.url, 'ajv')
const ajv2019 = lazyRequire<typeof import('ajv/dist/2019.js')>(import.meta.url, 'ajv/dist/2019.js')
const ajv2020 = lazyRequire<typeof import('ajv/dist/2020.js')>(import.meta.url, 'ajv/dist/2020.js')

/** The dialects understood, by the `$schema` URI that declares them (without `#`, https). */
const dialects: Record<string, () => AjvClass> = {
  [DRAFT_2020]: () => ajv2020().Ajv2020,
  'https://json-schema.org/draft/2019-09/schema': () => ajv2019().Ajv2019,
  [DRAFT_07]: () => ajv07().Ajv,
}

/**
 * The dialect a JSON Schema declares with `$schema` (its URI without `#`), `absent` when it declares none.
 * Throws an Error for a dialect that is not 2020-12, 2019-09 or draft-07.
 * @example jsonSchemaDialect({ $schema: 'https://json-schema.org/draft/2020-12/schema#' }) // 'https://json-schema.org/draft/2020-12/schema'
 */
export function jsonSchemaDialect(schema: unknown, absent: 'draft-07' | '2020-12'): string {
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) throw new Error('a JSON Schema is an object or a boolean')
  const declared = typeof schema === 'object' ? (schema as { $schema?: unknown }).$schema : undefined
  if (declared === undefined) return absent === 'draft-07' ? DRAFT_07 : DRAFT_2020
  if (typeof declared !== 'string') throw new Error('$schema must be a string')
  const uri = declared.replace(/#$/, '').replace(/^https?:\/\/json-schema\.org\/draft\//, 'https://json-schema.org/draft/').replace(/^https:\/\/json-schema\.org\/draft-07\//, 'http://json-schema.org/draft-07/')
  if (dialects[uri] === undefined) throw new Error(`$schema '${declared}' is not a dialect Sluice knows (draft-07, 2019-09, 2020-12)`)
  return uri
}

/**
 * Ajv instances with the given options, one per dialect, made on first use: `pool(schema)` is the instance
 * for the dialect the schema declares (`absent`: the one assumed when it declares none).
 * @example const ajvFor = ajvPool({ strict: false }, 'draft-07'); ajvFor(schema).compile(schema)
 */
export function ajvPool(options: Options, absent: 'draft-07' | '2020-12'): (schema: unknown) => Ajv {
  const instances = new Map<string, Ajv>()
  return (schema) => {
    const uri = jsonSchemaDialect(schema, absent)
    let ajv = instances.get(uri)
    if (ajv === undefined) instances.set(uri, (ajv = new (dialects[uri]())(options)))
    return ajv
  }
}

// addUsedSchema false: a schema's `$id` is not kept by the instance, so the same `$id` may be checked again (a
// lookup after a registration, a new version of a schema that names itself).
const registryAjv = ajvPool({ strict: false, allErrors: true, addUsedSchema: false }, 'draft-07')

/**
 * Checks that a JSON Schema compiles under the dialect its `$schema` declares: 2020-12 (what zod's
 * `toJSONSchema` writes), 2019-09, or draft-07 (also when `$schema` is absent, as Confluent's registry assumes).
 * Throws an Error saying why otherwise, for the registry's 42201.
 * @example assertJsonSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' }) // ok
 */
export function assertJsonSchema(schema: unknown): void {
  const ajv = registryAjv(schema)
  try {
    ajv.compile(schema as object)
  } finally {
    // compiled functions are cached by the schema object; this one is parsed per request, so drop it
    if (typeof schema === 'object') ajv.removeSchema(schema as object)
  }
}
