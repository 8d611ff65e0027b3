import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compatibilityDifferences, type SchemaText } from './check.ts'
import { jsonSchemaReadDifferences } from './json-schema.ts'

const avro = (fields: object[]): SchemaText => ({ schemaType: 'AVRO', schema: JSON.stringify({ type: 'record', name: 'Bid', fields }) })
const v1 = avro([{ name: 'price', type: 'long' }])
const v2 = avro([{ name: 'price', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }])
const v3 = avro([{ name: 'channel', type: 'string', default: 'web' }])

test('modes: backward, forward, full, and transitive against every earlier version', () => {
  const kinds = (c: SchemaText, prev: SchemaText[], level: Parameters<typeof compatibilityDifferences>[2]) =>
    compatibilityDifferences(c, prev.map((schema, i) => ({ version: i + 1, schema })), level).map((d) => d.kind)
  assert.deepEqual(kinds(v2, [v1], 'BACKWARD'), [])
  assert.deepEqual(kinds(v2, [v1], 'FORWARD'), [])
  assert.deepEqual(kinds(v2, [v1], 'FULL'), [])
  // v3 drops 'price' (no default): new readers are fine, v2 readers of v3 data are fine, v1 readers are not.
  assert.deepEqual(kinds(v3, [v1, v2], 'BACKWARD_TRANSITIVE'), [])
  assert.deepEqual(kinds(v3, [v1, v2], 'FORWARD'), ['READER_FIELD_MISSING_DEFAULT_VALUE'])
  assert.deepEqual(kinds(v3, [v1, v2], 'FULL_TRANSITIVE'), ['READER_FIELD_MISSING_DEFAULT_VALUE', 'READER_FIELD_MISSING_DEFAULT_VALUE'])
  assert.deepEqual(kinds(v3, [v1], 'NONE'), [])
})

test('JSON Schema: widening is compatible, narrowing and new required properties are not', () => {
  const closed = (props: object, required: string[] = []) => ({ type: 'object', properties: props, required, additionalProperties: false })
  assert.deepEqual(jsonSchemaReadDifferences({ type: 'number' }, { type: 'integer' }), [])
  assert.deepEqual(jsonSchemaReadDifferences({ type: 'integer' }, { type: 'number' }).map((d) => d.kind), ['TYPE_NARROWED'])
  // an optional property added to a closed object
  assert.deepEqual(jsonSchemaReadDifferences(closed({ a: { type: 'string' }, b: { type: 'number' } }, ['a']), closed({ a: { type: 'string' } }, ['a'])), [])
  assert.deepEqual(jsonSchemaReadDifferences(closed({ a: { type: 'string' }, b: { type: 'number' } }, ['a', 'b']), closed({ a: { type: 'string' } }, ['a'])).map((d) => [d.path, d.kind]), [['b', 'REQUIRED_PROPERTY_ADDED']])
  assert.deepEqual(jsonSchemaReadDifferences({ enum: ['a', 'b'] }, { enum: ['a'] }), [])
  assert.deepEqual(jsonSchemaReadDifferences({ enum: ['a'] }, { enum: ['a', 'b'] }).map((d) => d.kind), ['ENUM_NARROWED'])
  assert.deepEqual(jsonSchemaReadDifferences({ type: 'number', minimum: 0 }, { type: 'number', minimum: 1 }), [])
  assert.deepEqual(jsonSchemaReadDifferences({ type: 'number', minimum: 1 }, { type: 'number', minimum: 0 }).map((d) => d.kind), ['BOUND_TIGHTENED'])
  // a property removed from a closed reader while the writer still writes it
  assert.deepEqual(jsonSchemaReadDifferences(closed({ a: { type: 'string' } }), closed({ a: { type: 'string' }, b: { type: 'number' } })).map((d) => [d.path, d.kind]), [['b', 'FALSE_SCHEMA']])
})

test('JSON Schema: tuples are compared position by position (draft-07 items arrays and 2020-12 prefixItems)', () => {
  const kinds = (r: object, w: object) => jsonSchemaReadDifferences(r, w).map((d) => [d.path, d.kind])
  const t07 = (types: string[], additionalItems?: boolean) => ({ type: 'array', items: types.map((type) => ({ type })), ...(additionalItems !== undefined ? { additionalItems } : {}) })
  const t2020 = (types: string[], items?: object | boolean) => ({ type: 'array', prefixItems: types.map((type) => ({ type })), ...(items !== undefined ? { items } : {}) })
  assert.deepEqual(kinds(t07(['number', 'string']), t07(['integer', 'string'])), [])
  assert.deepEqual(kinds(t07(['integer', 'string']), t07(['number', 'string'])), [['[0]', 'TYPE_NARROWED']])
  assert.deepEqual(kinds(t2020(['integer']), t2020(['string'])), [['[0]', 'TYPE_NARROWED']])
  assert.deepEqual(kinds(t2020(['number'], false), t2020(['number'], false)), [])
  // a closed reader tuple, an open writer: the writer's extra items are refused
  assert.deepEqual(kinds(t2020(['number'], false), t2020(['number'])), [['[]', 'FALSE_SCHEMA']])
  assert.deepEqual(kinds(t07(['number', 'number'], false), t07(['number'], false)), [])
  // the rest of the items, as before
  assert.deepEqual(kinds({ type: 'array', items: { type: 'integer' } }, { type: 'array', items: { type: 'number' } }), [['[]', 'TYPE_NARROWED']])
})

test('JSON Schema: anyOf and oneOf alternatives, each writer alternative read by some reader alternative; allOf and not by equality', () => {
  const kinds = (r: object, w: object) => jsonSchemaReadDifferences(r, w).map((d) => d.kind)
  const alt = (...types: string[]) => ({ anyOf: types.map((type) => ({ type })) })
  assert.deepEqual(kinds(alt('string', 'number'), alt('string')), [])
  assert.deepEqual(kinds(alt('string', 'number'), { type: 'integer' }), [])
  assert.deepEqual(kinds(alt('string'), alt('string', 'boolean')), ['ALTERNATIVE_NOT_READ'])
  assert.deepEqual(kinds({ type: 'string' }, { oneOf: [{ type: 'string' }, { type: 'null' }] }), ['ALTERNATIVE_NOT_READ'])
  // A narrowed type inside an alternative is found, not hidden by the combinator.
  const obj = (t: string) => ({ type: 'object', properties: { v: { anyOf: [{ type: t }, { type: 'null' }] } } })
  assert.deepEqual(kinds(obj('integer'), obj('number')), ['ALTERNATIVE_NOT_READ'])
  assert.deepEqual(kinds(obj('number'), obj('integer')), [])
  assert.deepEqual(kinds({ allOf: [{ minimum: 1 }] }, { allOf: [{ minimum: 0 }] }), ['COMBINATOR_CHANGED'])
  assert.deepEqual(kinds({ not: { type: 'null' } }, { not: { type: 'null' } }), [])
})
