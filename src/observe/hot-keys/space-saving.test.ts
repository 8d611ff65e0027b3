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

test('sampling a long stream: the hot key and its share are found, keys in a cycle are not aliased, the total is exact', () => {
  const s = new SpaceSaving<string>(64, { exactFor: 10_000, every: 8 })
  const cyclic = new SpaceSaving<string>(64, { exactFor: 0, every: 8 })
  let hot = 0
  for (let b = 0; b < 1000; b++) {
    const keys: string[] = []
    const cycle: string[] = []
    for (let i = 0; i < 500; i++) {
      const n = b * 500 + i
      const k = n % 3 === 0 ? 'auction-1' : `auction-${(n * 7919) % 997}`
      if (k === 'auction-1') hot++
      keys.push(k)
      // Eight keys in turn: a sample of every 8th record would see one of them only.
      cycle.push(`k${n % 8}`)
    }
    s.offerBatch(keys)
    cyclic.offerBatch(cycle)
  }
  assert.equal(s.total, 500_000)
  const [top] = s.top(1)
  assert.equal(top.key, 'auction-1')
  assert.ok(Math.abs(top.count - hot) < hot * 0.03, `${top.count} for ${hot}`)
  const shares = cyclic.top(8)
  assert.equal(shares.length, 8)
  for (const h of shares) assert.ok(Math.abs(h.count - 62_500) < 62_500 * 0.05, `${h.key}: ${h.count} for 62500`)
  assert.equal(cyclic.total, 500_000)
})

test('a sampled sketch counts every record until exactFor', () => {
  const s = new SpaceSaving<string>(4, { exactFor: 1_000, every: 8 })
  for (let i = 0; i < 10; i++) s.offerBatch(Array.from({ length: 100 }, (_, j) => (j % 2 === 0 ? 'x' : 'y')))
  assert.deepEqual(s.top(2), [
    { key: 'x', count: 500, error: 0 },
    { key: 'y', count: 500, error: 0 },
  ])
})
