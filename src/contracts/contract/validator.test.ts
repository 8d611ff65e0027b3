import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { z } from 'zod'
import { contract } from './define.ts'
import { compileRules, type FieldRule } from './rules.ts'

const value = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true, min: -5, max: 5 }), fc.constantFrom('a', 'b', 'ab', '', null, undefined, true))
const record = fc.record({ id: value, name: value, score: value, nested: fc.oneof(fc.constant(undefined), fc.record({ x: value })) }, { requiredKeys: [] })

test('the compiled validator of a zod contract agrees with zod itself (the reference path)', () => {
  const schema = z.object({ id: z.number().int().min(0), name: z.string().regex(/^a/), score: z.number().max(3).optional(), nested: z.object({ x: z.union([z.string(), z.null()]) }).optional() })
  const v = contract({ name: 't', schema }).validator()
  fc.assert(fc.property(record, (r) => assert.equal(v.check(r) === undefined, schema.safeParse(r).success, JSON.stringify(r))), { numRuns: 2000 })
})

/** The plain reading of a rule, to check the generated code against. */
function reference(rules: FieldRule[], v: Record<string, unknown>): number {
  return rules.findIndex((r) => {
    const x = r.field.split('.').reduce<unknown>((o, k) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[k]), v)
    if (x === null || x === undefined) return r.rule === 'notNull'
    if (r.rule === 'inRange') return typeof x !== 'number' || (r.min !== undefined && x < r.min) || (r.max !== undefined && x > r.max)
    if (r.rule === 'inSet') return !r.values.includes(x as string)
    if (r.rule === 'pattern') return typeof x !== 'string' || !new RegExp(r.pattern).test(x)
    return false
  })
}

test('compiled field rules agree with their plain reading', () => {
  const rule: fc.Arbitrary<FieldRule> = fc.oneof(
    fc.constantFrom('id', 'name', 'nested.x').map((field) => ({ field, rule: 'notNull' as const })),
    fc.record({ field: fc.constantFrom('id', 'score', 'nested.x'), min: fc.integer({ min: -3, max: 3 }), max: fc.integer({ min: -3, max: 3 }) }).map(({ field, min, max }) => ({ field, rule: 'inRange' as const, min, max })),
    fc.constantFrom('name', 'id').map((field) => ({ field, rule: 'inSet' as const, values: ['a', 1, true] })),
    fc.constantFrom('name', 'nested.x').map((field) => ({ field, rule: 'pattern' as const, pattern: '^a' })),
  )
  fc.assert(fc.property(fc.array(rule, { maxLength: 4 }), record, (rules, r) => assert.equal(compileRules(rules)(r), reference(rules, r))), { numRuns: 2000 })
})

test('a JSON Schema contract is validated in the dialect its $schema declares; contracts may share an $id', () => {
  const draft07 = contract({ name: 'xy', schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { xy: { type: 'array', items: [{ type: 'number' }, { type: 'number' }], additionalItems: false } } } }).validator()
  assert.equal(draft07.check({ xy: [1, 2] }), undefined)
  assert.equal(draft07.check({ xy: [1, 'a'] })?.path, '/xy/1')
  assert.equal(draft07.check({ xy: [1, 2, 3] })?.rule, 'additionalItems')
  const v2020 = contract({ name: 'xy', schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { xy: { type: 'array', prefixItems: [{ type: 'number' }], items: false } } } }).validator()
  assert.equal(v2020.check({ xy: [1] }), undefined)
  assert.equal(v2020.check({ xy: [1, 2] })?.path, '/xy')
  const named = (required: string[]) => contract({ name: 'named', schema: { $id: 'https://example.com/bid.json', type: 'object', required } }).validator()
  assert.equal(named([]).check({}), undefined)
  assert.equal(named(['id']).check({})?.rule, 'required')
  assert.throws(() => contract({ name: 'odd', schema: { $schema: 'https://example.com/dialect', type: 'object' } }).validator(), /SLUICE_BAD_CONTRACT|not a dialect Sluice knows/)
})
