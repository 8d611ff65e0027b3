// Hot keys: a keyed step counts its keys in a space-saving sketch; the run summary, the registry snapshot and
// the job handle show the top ones, and the summary warns when one subtask carries far more than its share.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatSummary, pipeline, run, sink, source, start } from '../../src/index.ts'
import { isHot, skewWarning } from '../../src/runtime/hot-keys.ts'

function skewed(n: number): { auction: string; price: number }[] {
  // Half the bids on one auction, the rest spread over 500.
  return Array.from({ length: n }, (_, i) => ({ auction: i % 2 === 0 ? 'a-hot' : `a-${i % 500}`, price: i % 100 }))
}

test('a keyed step finds its hot key: in the summary, the snapshot and the busy time', async () => {
  const p = pipeline('hot')
  p.from(source.collection(skewed(20_000)))
    .keyBy((b) => b.auction)
    .reduce((a, b) => ({ auction: a.auction, price: Math.max(a.price, b.price) }))
    .id('max-price')
    .to(sink.blackhole())
  const job = start(p)
  const summary = await job.done
  const step = job.metrics().steps.find((t) => t.step === 'max-price')!
  assert.equal(step.hotKeys![0].key, 'a-hot')
  assert.ok(step.hotKeys![0].count - step.hotKeys![0].error <= 10_000 && step.hotKeys![0].count >= 10_000)
  assert.ok(step.hotKeys!.length <= 10)
  assert.ok(step.busyMs > 0)
  assert.deepEqual(summary.hotKeys?.map((h) => h.step), ['max-price'])
  assert.equal(summary.hotKeys![0].keys[0].key, 'a-hot')
  assert.match(formatSummary(summary), /hot keys of 'max-price': the top \d take 50%/)
  assert.ok(!formatSummary(summary).includes('a-hot'), 'the summary line names no key')
  // Counts read with thousands separated.
  assert.match(formatSummary(summary), /^records in 20,000, late 0/m)
  assert.match(formatSummary(summary), /^source-collection-1\s+\S+\s+20,000\s+20,000\s+0/m)
  // Parallelism 1: no subtask to compare with, no warning.
  assert.equal(summary.warnings, undefined)
})

test('steps that are not keyed have no sketch', async () => {
  const summary = await run(pipeline('cold').from(source.collection([1, 2, 3])).map((n) => n * 2).to(sink.blackhole()).pipeline)
  assert.equal(summary.hotKeys, undefined)
})

test('the skew warning: one subtask far above its fair share, with enough records to tell', () => {
  assert.match(skewWarning('per-auction', [90_000, 10_000], [{ key: 'a-hot', count: 80_000, error: 0 }])!, /^step 'per-auction': subtask 0 received 90% of its records \(fair share 50%\); its hottest key carries 80% of them/)
  assert.equal(skewWarning('even', [50_000, 50_000]), undefined)
  assert.equal(skewWarning('small', [900, 100]), undefined, 'too few records to call it skew')
  assert.equal(skewWarning('one', [100_000]), undefined)
  assert.match(skewWarning('four', [10_000, 10_000, 10_000, 70_000])!, /subtask 3 received 70% of its records \(fair share 25%\)/)
})

test('the summary gives a line only to a key that stands out: not to a largest key of 2%, nor to a few keys sharing the records evenly', () => {
  const keys = (...counts: number[]) => counts.map((count, i) => ({ key: `k${i}`, count, error: 0 }))
  assert.equal(isHot(20_000, keys(10_000, 30, 20)), true, 'half the records on one key')
  assert.equal(isHot(1000, keys(150, 100, 40, 30)), true, '15%, five times the last top key')
  assert.equal(isHot(2148, keys(280, 279, 275, 270, 268, 266, 260, 250)), false, 'eight pages at 12-13% each')
  assert.equal(isHot(2839, keys(60, 58, 57, 20)), false, 'the largest key takes 2%')
  assert.equal(isHot(10, keys(10)), true, 'one key takes everything')
  assert.equal(isHot(0, []), false)
})
