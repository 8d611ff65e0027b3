import { test } from 'node:test'
import assert from 'node:assert/strict'
import { subtaskOfKey } from './key.ts'
import { partitionByKey } from './partition-by-key.ts'

test('records go to the subtask owning their key, in order, with their times, kinds and positions', () => {
  const keys = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? [`k${i % 17}`, i % 2] : `k${i % 17}`))
  const batch = { values: keys.map((_, i) => i), times: keys.map((_, i) => i * 10), keys, kinds: keys.map((_, i) => (i % 2) as 0 | 1), pos: keys.map((_, i) => `line ${i}`) }
  const parts = partitionByKey(batch, 4)
  let total = 0
  parts.forEach((part, sub) => {
    if (part === undefined) return
    total += part.values.length
    for (let j = 0; j < part.values.length; j++) {
      const i = part.values[j] as number
      assert.equal(subtaskOfKey(part.keys![j], 4), sub)
      assert.equal(part.times[j], i * 10)
      assert.equal(part.kinds![j], i % 2)
      assert.equal(part.pos![j], `line ${i}`)
      if (j > 0) assert.ok(i > (part.values[j - 1] as number))
    }
  })
  assert.equal(total, 200)
  const single = { values: [1, 2], times: [0, 0], keys: ['a', 'a'] }
  assert.equal(partitionByKey(single, 4)[subtaskOfKey('a', 4)], single)
})
