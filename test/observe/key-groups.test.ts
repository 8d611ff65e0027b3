// Records per key group of a keyed step, for rescaling decisions: counted from sampled batches, summed over
// subtasks, exported to Prometheus with a bounded key_group label.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { agg, pipeline, sink, source } from '../../src/index.ts'
import { start } from '../../src/runtime/run.ts'
import { keyGroupOf } from '../../src/core/key.ts'
import { PrometheusExposition } from '../../src/observe/prometheus/exposition.ts'

test('a keyed step counts its records per key group; other steps do not', { timeout: 60_000 }, async () => {
  const p = pipeline('key-groups', { batchSize: 100 })
  // Three keys, in every batch in the same proportions: 60% 'a', 30% 'b', 10% 'c'.
  p.from(source.generator({ count: 16_000, make: (g) => ({ k: g.seq % 10 < 6 ? 'a' : g.seq % 10 < 9 ? 'b' : 'c' }) }))
    .keyBy((r) => r.k)
    .aggregate(agg.count())
    .id('count')
    .to(sink.blackhole())
  const job = start(p)
  await job.done
  const snapshot = job.metrics()
  const step = snapshot.steps.find((s) => s.step === 'count')!
  const groups = step.keyGroupRecords!
  assert.equal(groups.length, 128)
  const total = groups.reduce((a, b) => a + b, 0)
  // One batch in 8 counted, each record 8 times: the estimate is the records of the counted batches, times 8.
  assert.ok(total >= 16_000 * 0.8 && total <= 16_000 * 1.2, `estimate ${total} of 16000`)
  const share = (k: string) => groups[keyGroupOf(k)] / total
  if (new Set(['a', 'b', 'c'].map((k) => keyGroupOf(k))).size === 3) {
    assert.ok(Math.abs(share('a') - 0.6) < 0.01 && Math.abs(share('b') - 0.3) < 0.01 && Math.abs(share('c') - 0.1) < 0.01)
  }
  assert.equal(groups.filter((n) => n > 0).length, new Set(['a', 'b', 'c'].map((k) => keyGroupOf(k))).size)
  assert.equal(snapshot.steps.find((s) => s.kind.startsWith('source'))!.keyGroupRecords, undefined)

  const text = await new PrometheusExposition().render(snapshot)
  const lines = text.split('\n').filter((l) => l.startsWith('sluice_step_key_group_records_total{'))
  assert.equal(lines.length, groups.filter((n) => n > 0).length, 'one series per key group that had records')
  assert.ok(lines.some((l) => l.includes(`key_group="${keyGroupOf('a')}"`) && l.includes('step="count"')))
})

test('a keyed step reports its state per key group: keys and estimated bytes, exported with a bounded key_group label', { timeout: 60_000 }, async () => {
  const p = pipeline('key-group-state', { batchSize: 100 })
  p.from(source.generator({ count: 5_000, make: (g) => ({ k: g.seq % 300, bidder: g.int(50) }) }))
    .keyBy((r) => r.k)
    .aggregate(agg.countDistinct((r) => r.bidder))
    .id('distinct')
    .to(sink.blackhole())
  const job = start(p)
  await job.done
  const snapshot = job.metrics()
  const step = snapshot.steps.find((s) => s.step === 'distinct')!
  const keys = step.keyGroupKeys!
  assert.equal(keys.length, 128)
  assert.equal(keys.reduce((a, b) => a + b, 0), 300, 'every key counted once')
  for (let k = 0; k < 300; k += 37) assert.ok(keys[keyGroupOf(k)] > 0)
  const bytes = step.keyGroupBytes!
  assert.ok(bytes.every((b, g) => (b > 0) === (keys[g] > 0)))
  assert.equal(snapshot.steps.find((s) => s.kind.startsWith('source'))!.keyGroupKeys, undefined)

  const text = await new PrometheusExposition().render(snapshot)
  for (const name of ['sluice_step_key_group_state_keys', 'sluice_step_key_group_state_bytes']) {
    const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`))
    assert.equal(lines.length, keys.filter((n) => n > 0).length, `${name}: one series per key group holding state`)
    assert.ok(lines.every((l) => l.includes('step="distinct"')))
  }
})
