// Local pre-aggregation before the keyed exchange gives the results of the plain aggregate, at parallelism 1
// and 2, on a skewed input, for an append-only and an updating input.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { run } from '../../src/index.ts'
import { build } from './fixtures/combine.ts'

const module = new URL('./fixtures/combine.ts', import.meta.url).href
const sorted = <T extends { key: number }>(rows: T[]) => [...rows].sort((a, b) => a.key - b.key)

async function results(combine: boolean | 'auto', parallelism: number) {
  const params = { combine: String(combine) }
  const built = build(params)
  const summary = await run(built.pipeline, { parallelism, module, params })
  return { summary, counts: sorted(built.counts.table()), sums: sorted(built.sums.table()), updating: sorted(built.updating.table()), sent: built.counts.values.length }
}

test('a combined keyed aggregate gives the plain results at parallelism 1 and 2', { timeout: 180_000 }, async () => {
  const plain = await results(false, 1)
  assert.equal(plain.counts.reduce((n, r) => n + (r.value as number), 0), 20_000)
  assert.ok((plain.counts.find((r) => r.key === 0)!.value as number) > 12_000, 'the input is skewed')
  for (const parallelism of [1, 2]) {
    const combined = await results(true, parallelism)
    assert.deepEqual(combined.counts, plain.counts, `counts at parallelism ${parallelism}`)
    assert.deepEqual(combined.sums, plain.sums, `sums at parallelism ${parallelism}`)
    assert.deepEqual(combined.updating, plain.updating, `an updating input at parallelism ${parallelism}`)
    const steps = combined.summary.steps.map((s) => s.step)
    assert.ok(steps.includes('combine-1'), 'the combiner is a step of its own')
    // A hot key crosses the exchange once per batch: the aggregate takes far fewer records than were read.
    const aggIn = combined.summary.steps.find((s) => s.step === 'keyed-aggregate-1')!.in
    assert.ok(aggIn < 20_000 / 4, `the aggregate merged ${aggIn} partials for 20000 records`)
  }
})

test('by default a combiner folds only where an exchange follows it, with the plain results', { timeout: 180_000 }, async () => {
  const plain = await results(false, 1)
  for (const parallelism of [1, 2]) {
    const auto = await results('auto', parallelism)
    assert.deepEqual(auto.counts, plain.counts, `counts at parallelism ${parallelism}`)
    assert.deepEqual(auto.sums, plain.sums, `sums at parallelism ${parallelism}`)
    assert.deepEqual(auto.updating, plain.updating, `an updating input at parallelism ${parallelism}`)
    const step = (id: string) => auto.summary.steps.find((s) => s.step === id)
    // count, sum and the count over the changelog merge exactly; reduce's function may not be associative.
    assert.deepEqual(auto.summary.steps.filter((s) => s.kind === 'combine').map((s) => s.step), ['combine-1', 'combine-2', 'combine-3'])
    const aggIn = step('keyed-aggregate-1')!.in
    if (parallelism === 1) assert.equal(aggIn, 20_000, 'at parallelism 1 the combiner hands every record on')
    else assert.ok(aggIn < 20_000 / 4, `the aggregate merged ${aggIn} partials for 20000 records at parallelism 2`)
  }
})
