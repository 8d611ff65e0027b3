import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { z } from 'zod'
import { contract } from './define.ts'
import { hasRefinements } from './zod-refinements.ts'

const bid = z
  .object({
    auction: z.number().int(),
    price: z.number().min(0).refine((p) => p % 5 === 0, 'price must be a multiple of 5'),
    seller: z.object({ id: z.number(), name: z.string() }).superRefine((s, ctx) => {
      if (s.name === '') ctx.addIssue({ code: 'custom', message: 'seller name must not be empty', path: ['name'] })
    }),
  })
  .refine((b) => b.auction !== b.seller.id, { message: 'a seller does not bid on its own auction', path: ['auction'] })

test('refinements are found anywhere in a zod schema, and only there', () => {
  assert.equal(hasRefinements(bid), true)
  assert.equal(hasRefinements(z.object({ a: z.array(z.object({ b: z.string().optional().refine((x) => x !== 'y') })) })), true)
  assert.equal(hasRefinements(z.object({ a: z.number().min(1), b: z.array(z.string().regex(/x/)).optional(), c: z.union([z.null(), z.boolean()]) })), false)
})

test("a zod contract's refinements are checked and reported with their message, path and the rule 'refine'", () => {
  const v = contract({ name: 'bids', schema: bid }).validator()
  const ok = { auction: 1, price: 10, seller: { id: 2, name: 'ann' } }
  assert.equal(v.check(ok), undefined)
  assert.deepEqual(v.check({ ...ok, price: 7 }), { path: '/price', rule: 'refine', detail: 'fails a refinement: price must be a multiple of 5' })
  assert.deepEqual(v.check({ ...ok, seller: { id: 2, name: '' } }), { path: '/seller/name', rule: 'refine', detail: 'fails a refinement: seller name must not be empty' })
  assert.deepEqual(v.check({ ...ok, auction: 2 }), { path: '/auction', rule: 'refine', detail: 'fails a refinement: a seller does not bid on its own auction' })
  // what JSON Schema says is still found by the compiled check first
  assert.deepEqual(v.check({ ...ok, price: -5 }), { path: '/price', rule: 'minimum', detail: 'must be >= 0' })
})

test('a contract with refinements accepts exactly what zod accepts (the reference path)', () => {
  const v = contract({ name: 'bids', schema: bid }).validator()
  const record = fc.record({ auction: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant('1')), price: fc.integer({ min: -5, max: 20 }), seller: fc.record({ id: fc.integer({ min: 0, max: 3 }), name: fc.constantFrom('', 'ann') }) })
  fc.assert(fc.property(record, (r) => assert.equal(v.check(r) === undefined, bid.safeParse(r).success, JSON.stringify(r))), { numRuns: 1000 })
})
