import { Ajv, type Options } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'

/** The JSON Schema dialects the registry accepts, by the `$schema` URI that declares them (without `#`). */
const dialects: Record<string, () => Ajv> = {
  'https://json-schema.org/draft/2020-12/schema': () => new Ajv2020(options),
  'https://json-schema.org/draft/2019-09/schema': () => new Ajv2019(options),
  'http://json-schema.org/draft-07/schema': () => new Ajv(options),
}
const draft07 = 'http://json-schema.org/draft-07/schema'

// addUsedSchema false: a schema's `$id` is not kept by the instance, so the same `$id` may be checked again (a
// lookup after a registration, a new version of a schema that names itself).
const options: Options = { strict: false, allErrors: true, addUsedSchema: false }
const instances = new Map<string, Ajv>()

/**
 * Checks that a JSON Schema compiles under the dialect its `$schema` declares: 2020-12 (what zod's
 * `toJSONSchema` writes), 2019-09, or draft-07 (also when `$schema` is absent, as Confluent's registry assumes).
 * Throws an Error saying why otherwise, for the registry's 42201.
 * @example assertJsonSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' }) // ok
 */
export function assertJsonSchema(schema: unknown): void {
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) throw new Error('a JSON Schema is an object or a boolean')
  const declared = typeof schema === 'object' ? (schema as { $schema?: unknown }).$schema : undefined
  if (declared !== undefined && typeof declared !== 'string') throw new Error('$schema must be a string')
  const uri = declared === undefined ? draft07 : declared.replace(/#$/, '').replace(/^http:\/\/json-schema\.org\/draft\//, 'https://json-schema.org/draft/')
  const make = dialects[uri]
  if (make === undefined) throw new Error(`$schema '${declared}' is not a dialect this registry knows (draft-07, 2019-09, 2020-12)`)
  let ajv = instances.get(uri)
  if (ajv === undefined) instances.set(uri, (ajv = make()))
  try {
    ajv.compile(schema as object)
  } finally {
    // compiled functions are cached by the schema object; this one is parsed per request, so drop it
    if (typeof schema === 'object') ajv.removeSchema(schema as object)
  }
}
