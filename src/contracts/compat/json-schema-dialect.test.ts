import { test } from 'node:test'
import assert from 'node:assert/strict'
import { assertJsonSchema } from './json-schema-dialect.ts'

test('a JSON Schema is checked under the dialect its $schema declares', () => {
  assertJsonSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { xy: { type: 'array', prefixItems: [{ type: 'number' }] } } })
  assertJsonSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema#', $defs: { n: { type: 'number' } }, $ref: '#/$defs/n' })
  assertJsonSchema({ $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'string' })
  assertJsonSchema({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'number' }] })
  assertJsonSchema({ type: 'object' }) // no $schema: draft-07
  assertJsonSchema(true)
  assert.throws(() => assertJsonSchema({ $schema: 'https://example.com/my-dialect', type: 'object' }), /\$schema 'https:\/\/example.com\/my-dialect' is not a dialect Sluice knows/)
  assert.throws(() => assertJsonSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 12 }), /must be/)
  assert.throws(() => assertJsonSchema({ type: 'object', minProperties: -1 }), /must be/)
  assert.throws(() => assertJsonSchema([]), /an object or a boolean/)
})

test('a schema with an $id can be checked again (a lookup after its registration, a later version)', () => {
  const v = (extra: object) => ({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'https://example.com/bid.json', type: 'object', ...extra })
  assertJsonSchema(v({}))
  assertJsonSchema(v({}))
  assertJsonSchema(v({ required: ['auction'] }))
})
