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

test('per record trace contexts go with their records; a part without any carries none', () => {
  const keys = Array.from({ length: 64 }, (_, i) => `k${i}`)
  const traces = keys.map((_, i) => (i === 5 ? 'tp-5' : i === 40 ? 'tp-40' : undefined))
  const parts = partitionByKey({ values: keys.map((_, i) => i), times: keys.map(() => 0), keys, traces }, 4)
  let seen = 0
  for (const part of parts) {
    if (part === undefined) continue
    if (part.traces === undefined) {
      assert.ok(part.values.every((i) => i !== 5 && i !== 40))
      continue
    }
    assert.equal(part.traces.length, part.values.length)
    part.values.forEach((i, j) => assert.equal(part.traces![j], traces[i as number]))
    seen += part.traces.filter((t) => t !== undefined).length
  }
  assert.equal(seen, 2)
})
