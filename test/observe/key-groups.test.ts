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
