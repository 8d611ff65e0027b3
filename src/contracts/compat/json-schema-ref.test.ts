import { test } from 'node:test'
import assert from 'node:assert/strict'
import { contract } from '../contract/define.ts'
import { contractFields } from '../contract/fields.ts'
import { jsonSchemaReadDifferences } from './json-schema.ts'

const money = (amount: object) => ({
  $defs: { money: { type: 'object', properties: { amount, currency: { type: 'string' } }, required: ['amount', 'currency'] } },
  type: 'object',
  properties: { price: { $ref: '#/$defs/money' }, fee: { $ref: '#/$defs/money' } },
  required: ['price'],
})

test('compatibility follows local $refs: a change inside a definition is found at each path that uses it', () => {
  assert.deepEqual(jsonSchemaReadDifferences(money({ type: 'number' }), money({ type: 'integer' })), [])
  assert.deepEqual(
    jsonSchemaReadDifferences(money({ type: 'integer' }), money({ type: 'number' })).map((d) => [d.path, d.kind]),
    [
      ['price/amount', 'TYPE_NARROWED'],
      ['fee/amount', 'TYPE_NARROWED'],
    ],
  )
  // a definition inlined on one side and referenced on the other compares the same: only the reader's
  // 'fee', which the open writer let through with any value, differs
  const inline = { type: 'object', properties: { price: { type: 'object', properties: { amount: { type: 'integer' }, currency: { type: 'string' } }, required: ['amount', 'currency'] } }, required: ['price'] }
  assert.deepEqual(jsonSchemaReadDifferences(money({ type: 'integer' }), inline).map((d) => [d.path, d.kind]), [['fee', 'OPEN_WRITER']])
})

test('recursive schemas are compared without looping; a $ref that does not resolve is a difference', () => {
  const tree = (value: object) => ({ $defs: { node: { type: 'object', properties: { value, children: { type: 'array', items: { $ref: '#/$defs/node' } } } } }, $ref: '#/$defs/node' })
  assert.deepEqual(jsonSchemaReadDifferences(tree({ type: 'number' }), tree({ type: 'integer' })), [])
  assert.deepEqual(jsonSchemaReadDifferences(tree({ type: 'integer' }), tree({ type: 'number' })).map((d) => [d.path, d.kind]), [['value', 'TYPE_NARROWED']])
  assert.deepEqual(jsonSchemaReadDifferences({ properties: { a: { $ref: 'other.json#/x' } } }, { properties: { a: { type: 'string' } } }).map((d) => [d.path, d.kind]), [['a', 'UNRESOLVED_REF']])
})

test('a JSON Schema contract with $refs validates through them and lists its fields through them', () => {
  const c = contract({ name: 'orders', schema: money({ type: 'integer', minimum: 0 }), personal: [] })
  const v = c.validator()
  assert.equal(v.check({ price: { amount: 5, currency: 'EUR' } }), undefined)
  assert.deepEqual(v.check({ price: { amount: -1, currency: 'EUR' } }), { path: '/price/amount', rule: 'minimum', detail: 'must be >= 0' })
  assert.deepEqual(v.check({ price: { amount: 1, currency: 'EUR' }, fee: { amount: 1 } }), { path: '/fee/currency', rule: 'required', detail: 'is required' })
  assert.deepEqual(contractFields(c.schemaText).map((f) => [f.name, f.type]), [
    ['price', 'object'],
    ['fee', 'object'],
  ])
})
