import { test } from 'node:test'
import assert from 'node:assert/strict'
import { protectPersonal } from './personal-defaults.ts'
import { mask, redact } from './transforms/mask.ts'

test('personal fields of a contract get the default transform, overrides win, nested paths are reached, input untouched', () => {
  const c = { name: 'people', personal: ['email', 'card', 'address.street'] }
  const f = protectPersonal<Record<string, any>>(c, { default: redact(), fields: { card: mask({ keepLast: 4 }) } })
  const input = { id: 1, email: 'a@x.org', card: '4111111111111234', address: { street: '1 rue X', city: 'Lyon' } }
  assert.deepEqual(f(input), { id: 1, email: null, card: '************1234', address: { street: null, city: 'Lyon' } })
  assert.equal(input.address.street, '1 rue X')
  assert.deepEqual(Object.keys(f.describe().fields), ['email', 'card', 'address.street'])
  assert.throws(() => protectPersonal(c, { default: redact(), fields: { id: redact() } }), /not personal/)
})
