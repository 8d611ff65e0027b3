import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OperatorHarness, type HarnessRecord } from '../../testing/operator-harness.ts'
import { isPartial } from './partial.ts'
import { agg } from './functions.ts'
import { CombinerOperator } from './combiner.ts'
import { FOLD_SAMPLE, FoldGate, MAX_FOLD_RATIO, PROBE_EVERY } from './fold-gate.ts'
import { WindowCombinerOperator, type WindowPartial } from '../window/combiner.ts'
import { window } from '../window/assigners.ts'

const BATCH = 512

test('the gate folds while a sample of batches halves what crosses, and probes one batch in PROBE_EVERY once it stopped', () => {
  const g = new FoldGate()
  // Keys repeat: folding pays and goes on.
  for (let n = 0; n < 2 * FOLD_SAMPLE; n += BATCH) {
    assert.equal(g.shouldFold(), true)
    g.folded(BATCH, BATCH * MAX_FOLD_RATIO)
  }
  // Keys stop repeating: after a sample it stops.
  for (let n = 0; n < FOLD_SAMPLE; n += BATCH) {
    assert.equal(g.shouldFold(), true)
    g.folded(BATCH, BATCH - 1)
  }
  assert.equal(g.folding, false)
  const asked = Array.from({ length: 3 * PROBE_EVERY }, () => g.shouldFold())
  assert.deepEqual(
    asked.map((f, i) => [i, f]).filter(([, f]) => f),
    [PROBE_EVERY - 1, 2 * PROBE_EVERY - 1, 3 * PROBE_EVERY - 1].map((i) => [i, true]),
  )
  // Probes whose keys repeat again turn folding back on once they make a sample.
  for (let n = 0; n < FOLD_SAMPLE; n += BATCH) g.folded(BATCH, 1)
  assert.equal(g.folding, true)
})

/** Whether batch `b` of keys that never repeat is folded: the first sample is; later, only probes. */
const folds = (b: number) => b < FOLD_SAMPLE / BATCH || (b - FOLD_SAMPLE / BATCH + 1) % PROBE_EVERY === 0

/** Feeds `batches` batches of BATCH records (keys from `keyOf`) and returns what came out of each. */
function feed(h: OperatorHarness, batches: number, keyOf: (i: number) => number, time: (b: number) => number): HarnessRecord[][] {
  const outs: HarnessRecord[][] = []
  for (let b = 0; b < batches; b++) {
    h.push(Array.from({ length: BATCH }, (_, i) => ({ value: { k: keyOf(b * BATCH + i) }, time: time(b) })))
    outs.push(h.take())
  }
  return outs
}

test("an 'auto' keyed combiner at parallelism 2 stops folding keys that do not repeat, and goes on folding keys that do", () => {
  const key = (v: { k: number }) => v.k
  const distinct = new OperatorHarness((ctx) => new CombinerOperator(agg.count(), key, 'agg-1', ctx, 'exchange'), { parallelism: 2 })
  const outs = feed(distinct, 64, (i) => i, () => 0)
  for (const [b, out] of outs.entries()) {
    assert.equal(out.length, BATCH)
    assert.equal(out.every((r) => isPartial(r.value)), folds(b), `batch ${b}`)
    if (!folds(b)) assert.deepEqual(out[0].value, { k: b * BATCH })
  }
  const repeating = new OperatorHarness((ctx) => new CombinerOperator(agg.count(), key, 'agg-1', ctx, 'exchange'), { parallelism: 2 })
  for (const out of feed(repeating, 64, (i) => i % 8, () => 0)) assert.equal(out.length, 8)
  // Told to combine, a combiner folds whatever the keys.
  const always = new OperatorHarness((ctx) => new CombinerOperator(agg.count(), key, 'agg-1', ctx, 'always'), { parallelism: 2 })
  for (const out of feed(always, 64, (i) => i, () => 0)) assert.ok(out.every((r) => isPartial(r.value)))
})

test("an 'auto' window combiner stops folding a sliding window whose keys do not repeat, and folds per pane", () => {
  const h = new OperatorHarness((ctx) => new WindowCombinerOperator(agg.count(), (v: { k: number }) => v.k, window.sliding({ size: '10s', slide: '2s' }), 'window-1', ctx, 'exchange'), { parallelism: 2 })
  h.watermark(0)
  const outs = feed(h, 64, (i) => i, (b) => 1_000 + b)
  for (const [b, out] of outs.entries()) {
    // One partial per record and pane (not one per window: a record falls in five), or the record as it is.
    assert.equal(out.length, BATCH)
    assert.equal(out.every((r) => isPartial(r.value)), folds(b), `batch ${b}`)
    const first = out[0].value as WindowPartial<number, number>
    if (folds(b)) assert.deepEqual([first.start, first.end, first.pane], [0, 2_000, true])
  }
  // Keys that repeat: a partial per key and pane.
  const hot = new OperatorHarness((ctx) => new WindowCombinerOperator(agg.count(), (v: { k: number }) => v.k, window.sliding({ size: '10s', slide: '2s' }), 'window-1', ctx, 'exchange'), { parallelism: 2 })
  hot.watermark(0)
  for (const out of feed(hot, 64, (i) => i % 4, (b) => 1_000 + b * 100)) assert.equal(out.length, 4)
})

test("a sliding window's pane lies in every window of its records, and the first of them to end ends with it", () => {
  for (const w of [window.sliding({ size: '10s', slide: '2s' }), window.sliding({ size: '6s', slide: '3s', offset: '-1s' })]) {
    for (const ts of [-7_001, -1, 0, 1, 1_999, 2_000, 123_456_789]) {
      const start = w.paneStart!(ts)
      const bounds: number[] = []
      w.assign(ts, bounds)
      assert.ok(start <= ts && ts < start + w.paneSize!)
      for (let b = 0; b < bounds.length; b += 2) assert.ok(bounds[b] <= start && start + w.paneSize! <= bounds[b + 1], `ts ${ts}`)
      assert.equal(Math.min(...bounds.filter((_, i) => i % 2 === 1)), start + w.paneSize!)
    }
  }
  assert.equal(window.sliding({ size: '5s', slide: '2s' }).paneSize, undefined)
})
