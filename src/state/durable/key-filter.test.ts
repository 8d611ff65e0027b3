import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KeyFilter } from './key-filter.ts'
import type { StoreKey } from './store-keys.ts'

const key = (i: number, ns: number | string = 0): StoreKey => [i % 128, 1, ns, i % 3 === 0 ? `k${i}` : i] as StoreKey

test('a key added is always held; keys never added are mostly not, up to the size the filter was made for', () => {
  const f = new KeyFilter(10_000)
  for (let i = 0; i < 10_000; i++) f.add(key(i))
  for (let i = 0; i < 10_000; i++) assert.equal(f.mayHold(key(i)), true)
  let false_ = 0
  for (let i = 10_000; i < 30_000; i++) if (f.mayHold(key(i))) false_++
  assert.ok(false_ / 20_000 < 0.03, `false positives ${false_} of 20,000`)
  assert.equal(f.full, false)
  f.add(key(10_000))
  assert.equal(f.full, true)
})

test('the state, the namespace and the identity all tell keys apart, numbers and strings alike', () => {
  const f = new KeyFilter(1000)
  f.add([5, 1, 2, 'a'] as StoreKey)
  assert.equal(f.mayHold([5, 1, 2, 'a'] as StoreKey), true)
  let held = 0
  for (const k of [[5, 2, 2, 'a'], [5, 1, 3, 'a'], [5, 1, 2, 'b'], [5, 1, '2', 'a'], [5, 1, 2, 0.5], [5, 1, 2, true]]) if (f.mayHold(k as StoreKey)) held++
  assert.ok(held <= 1, `${held} of 6 distinct keys look held`)
})

test('rebuilt for more keys it holds exactly the keys given, and clear forgets all', () => {
  const f = new KeyFilter(100)
  for (let i = 0; i < 200; i++) f.add(key(i))
  assert.equal(f.full, true)
  const kept = Array.from({ length: 150 }, (_, i) => key(i * 2))
  f.rebuild(1000, kept)
  assert.equal(f.full, false)
  for (const k of kept) assert.equal(f.mayHold(k), true)
  f.clear()
  assert.equal(kept.filter((k) => f.mayHold(k)).length, 0)
})

test('every probe of every key lands in the filter, whatever its hash (no key is ever reported absent once added)', () => {
  for (const capacity of [1, 1000, 1 << 20]) {
    const f = new KeyFilter(capacity)
    for (let i = 0; i < 2000; i++) {
      const k = [i % 128, i % 5, i % 2 === 0 ? '' : i, `id-${i}`] as StoreKey
      f.add(k)
      assert.equal(f.mayHold(k), true, `key ${i}, capacity ${capacity}`)
    }
  }
})
