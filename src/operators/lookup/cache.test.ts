import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LookupCache } from './cache.ts'

test('entries expire after the ttl, and the least recently used goes first when full', () => {
  const c = new LookupCache<number>(100, 2)
  c.set('a', 1, 0)
  c.set('b', 2, 0)
  assert.deepEqual(c.get('a', 50), { result: 1, at: 0 })
  c.set('c', 3, 60) // b is the least recently used
  assert.equal(c.get('b', 60), undefined)
  assert.equal(c.get('a', 100), undefined, 'expired')
  assert.equal(c.get('c', 150)?.result, 3)
  c.set('u', undefined as unknown as number, 150)
  assert.deepEqual(c.get('u', 151), { result: undefined, at: 150 }, 'a result of undefined is cached too')
})
