import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { SpaceSaving } from './space-saving.ts'

function exact(keys: number[]): Map<number, number> {
  const m = new Map<number, number>()
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1)
  return m
}

test('a skewed stream (half the records on one key): the hot key is found, its count bounded', () => {
  const s = new SpaceSaving<string>(8)
  const keys: string[] = []
  for (let i = 0; i < 10_000; i++) keys.push(i % 2 === 0 ? 'auction-1' : `auction-${(i * 7919) % 997}`)
  for (let i = 0; i < keys.length; i += 100) s.offerBatch(keys.slice(i, i + 100))
  const [top] = s.top(1)
  assert.equal(top.key, 'auction-1')
  const truth = keys.filter((k) => k === 'auction-1').length
  assert.ok(top.count - top.error <= truth && truth <= top.count, `${top.count} - ${top.error} for ${truth}`)
  assert.equal(s.total, 10_000)
})

test('the guarantees hold against exact counts: every key above total/capacity is kept, counts over by at most that', () => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 50 }), { maxLength: 30 }), fc.integer({ min: 1, max: 12 }), (batches, capacity) => {
      const s = new SpaceSaving<number>(capacity)
      for (const b of batches) s.offerBatch(b)
      const all = batches.flat()
      const truth = exact(all)
      const bound = all.length / capacity
      const kept = new Map(s.top(capacity).map((h) => [h.key, h]))
      for (const [k, n] of truth) {
        if (n > bound) assert.ok(kept.has(k), `key ${k} (${n} of ${all.length}) was dropped`)
        const h = kept.get(k)
        if (h !== undefined) {
          assert.ok(h.count >= n && h.count - n <= bound + 1e-9, `key ${k}: ${h.count} for ${n}`)
          assert.ok(h.count - h.error <= n, `key ${k}: guaranteed ${h.count - h.error} > ${n}`)
        }
      }
      assert.equal(s.total, all.length)
    }),
  )
})

test('merging subtasks\' sketches keeps the hot key and the total', () => {
  const a = new SpaceSaving<string>(4)
  const b = new SpaceSaving<string>(4)
  a.offerBatch(['x', 'x', 'x', 'y', 'z'])
  b.offerBatch(['x', 'x', 'w', 'v', 'u', 't'])
  a.merge(b)
  assert.equal(a.total, 11)
  assert.equal(a.top(1)[0].key, 'x')
  assert.ok(a.top(1)[0].count >= 5)
})
