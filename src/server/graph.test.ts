import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MetricsRegistry } from '../observe/metrics/registry.ts'
import { RateTracker } from './graph.ts'

test('rates per step come from the previous sample at least the interval old; unknown watermarks are null', () => {
  let t = 10_000
  const registry = new MetricsRegistry({ pipeline: 'p', now: () => t })
  const src = registry.step('read', 'source', 0)
  const out = registry.step('write', 'sink', 0)
  const rates = new RateTracker(500)
  const first = rates.graph(undefined, registry.snapshot())
  assert.deepEqual(first.map((s) => [s.id, s.inputs.map((i) => i.from), s.inPerSecond, s.watermark]), [['read', [], null, null], ['write', ['read'], null, null]])
  t += 2_000
  src.recordsIn += 400
  out.recordsIn += 300
  src.watermark = 5_000
  const second = rates.graph(undefined, registry.snapshot())
  assert.deepEqual(second.map((s) => [s.id, s.inPerSecond, s.watermark]), [['read', 200, 5_000], ['write', 150, null]])
  // A call soon after compares with the same earlier sample rather than one 100 ms old.
  t += 100
  src.recordsIn += 10
  assert.equal(rates.graph(undefined, registry.snapshot())[0]!.inPerSecond, 410 / 2.1)
})
