import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ajvPool } from './json-schema-dialect.ts'
import { jsonSchemaReadDifferences } from './json-schema.ts'

// Random JSON Schemas from a small space (few property names, types, bounds and enum values), so that random
// pairs are often related: a property added or dropped, a type widened, a bound moved, an enum grown.
const values = [0, 1, 2.5, -3, 10, 'a', 'bb', 'ccc', true, null] as const
const leaf = fc.oneof(
  fc.constantFrom('integer', 'number', 'string', 'boolean', 'null').map((type) => ({ type })),
  fc.subarray(['integer', 'number', 'string', 'null'], { minLength: 2 }).map((type) => ({ type })),
  fc.record({ type: fc.constantFrom('integer', 'number'), minimum: fc.constantFrom(-3, 0, 1), maximum: fc.constantFrom(2.5, 10) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('string'), minLength: fc.constantFrom(1, 2), maxLength: fc.constantFrom(2, 3), pattern: fc.constantFrom('^a', '^b') }, { requiredKeys: ['type'] }),
  fc.subarray([...values], { minLength: 1, maxLength: 4 }).map((e) => ({ enum: e })),
  fc.constant({}),
)
const objectSchema = fc
  .record({ props: fc.subarray(['a', 'b', 'c']), required: fc.subarray(['a', 'b', 'c']), closed: fc.boolean() })
  .chain(({ props, required, closed }) =>
    fc.tuple(...props.map(() => leaf)).map((types) => ({
      type: 'object',
      properties: Object.fromEntries(props.map((p, i) => [p, types[i]])),
      ...(required.length > 0 ? { required } : {}),
      ...(closed ? { additionalProperties: false } : {}),
    })),
  )
const doc = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.constantFrom(...values))

const ajvFor = ajvPool({ strict: false, allErrors: false, validateFormats: false, addUsedSchema: false }, '2020-12')
const compile = (s: object) => ajvFor(s).compile(s)

test('JSON Schema: when a reader is found compatible, every document the writer accepts the reader accepts too', () => {
  let compatible = 0
  let documents = 0
  fc.assert(
    fc.property(objectSchema, objectSchema, fc.array(doc, { minLength: 30, maxLength: 30 }), (r, w, docs) => {
      if (jsonSchemaReadDifferences(r, w).length > 0) return
      compatible++
      const reads = compile(r)
      const writes = compile(w)
      for (const d of docs) {
        if (!writes(d)) continue
        documents++
        assert.ok(reads(d), `reader ${JSON.stringify(r)}\nwriter ${JSON.stringify(w)}\ndocument ${JSON.stringify(d)}`)
      }
    }),
    { numRuns: 1000 },
  )
  assert.ok(compatible > 50 && documents > 200, `only ${compatible} compatible pairs and ${documents} documents: the generators should make related schemas`)
})
