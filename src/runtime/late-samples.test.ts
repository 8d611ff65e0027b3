import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LateReservoir } from './late-samples.ts'

test('the reservoir keeps at most its capacity however many late records come, and counts them all', () => {
  const r = new LateReservoir(4)
  for (let i = 0; i < 100; i++) r.offer({ values: [{ n: i }, { n: i + 1000 }], times: [i, i] } as never, i)
  assert.equal(r.seen, 200)
  const kept = r.samples()
  assert.equal(kept.length, 4)
  assert.deepEqual(kept.map((s) => s.at), [...kept.map((s) => s.at)].sort((a, b) => a - b))
})

test('fewer late records than the capacity are all kept, in order', () => {
  const r = new LateReservoir(16)
  r.offer({ values: ['a', 'b'], times: [1, 2] } as never, 5)
  assert.deepEqual(r.samples().map((s) => s.late), ['a', 'b'])
})
