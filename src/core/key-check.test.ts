import { test } from 'node:test'
import assert from 'node:assert/strict'
import { keyProblem } from './key-check.ts'

test('primitives, null, tuples and plain objects of them are keys', () => {
  for (const k of ['a', '', 0, -1.5, Infinity, true, 10n, null, ['a', 1, true, null], { a: 1, b: ['x'] }, Object.create(null)]) assert.equal(keyProblem(k), undefined, typeof k)
})

test('what cannot be a key is named by type, never by content', () => {
  const cyclic: Record<string, unknown> = { name: 'secret' }
  cyclic.self = cyclic
  let deep: unknown = 'secret'
  for (let i = 0; i < 100; i++) deep = [deep]
  const cases: [unknown, RegExp][] = [
    [undefined, /^undefined$/],
    [NaN, /^NaN$/],
    [Symbol('secret'), /Symbol/],
    [() => 'secret', /function/],
    [Promise.resolve('secret'), /Promise/],
    [cyclic, /cyclic/],
    [deep, /nested deeper/],
    [['secret', NaN], /NaN/],
    [['secret', undefined], /undefined/],
    [['secret', 1n], /bigint/],
    [{ k: () => 1 }, /function/],
    [new Map([['secret', 1]]), /Map object/],
    [new Date(0), /Date object/],
    [{ [Symbol('s')]: 1 }, /Symbol properties/],
  ]
  for (const [k, re] of cases) {
    const p = keyProblem(k)
    assert.ok(p !== undefined && re.test(p), `${String(p)} should match ${re}`)
    assert.doesNotMatch(p, /secret/)
  }
})
