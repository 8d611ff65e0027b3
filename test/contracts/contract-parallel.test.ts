import { test } from 'node:test'
import assert from 'node:assert/strict'
import { run } from '../../src/index.ts'
import { build } from './fixtures/contract-parallel.ts'

const module = new URL('./fixtures/contract-parallel.ts', import.meta.url).href

test('at parallelism 2 the contract is checked in every subtask and one expect step sees every record', async () => {
  const { pipeline, out, errors, quality } = build()
  const summary = await run(pipeline, { parallelism: 2, module })
  assert.equal(summary.status, 'finished')
  assert.equal(out.values.length, 8_000 - 16)
  assert.equal(errors.values.length, 16)
  assert.ok(errors.values.every((e) => /field '\/price' must be >= 0 \(rule minimum\)/.test(e.error)))
  assert.deepEqual(quality.values.map((r) => [r.expectation, r.passed, r.checked, r.failed]), [
    ['price:unique', true, 8_000 - 16, 0],
    ['rowCount', true, 8_000 - 16, 0],
  ])
  // the expect step's results reach the metrics registry from the worker thread that holds the step
  const row = summary.steps.find((x) => x.kind === 'expect')!
  assert.deepEqual(row.quality, {
    'price:unique': { windows: 1, windowsFailed: 0, checked: 8_000 - 16, failed: 0 },
    rowCount: { windows: 1, windowsFailed: 0, checked: 8_000 - 16, failed: 0 },
  })
})
