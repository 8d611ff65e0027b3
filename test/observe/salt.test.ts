// Key salting spreads a key over sub-keys and merges their partial accumulators: the table is that of the
// unsalted aggregate, at parallelism 1 and 2, with and without a combiner in front.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { agg, pipeline, run, sink, source } from '../../src/index.ts'
import { build } from './fixtures/salt.ts'

const module = new URL('./fixtures/salt.ts', import.meta.url).href
const table = (rows: { key: unknown; value: unknown }[]) => rows.map((r) => JSON.stringify(r)).sort()

async function results(params: Record<string, string>, parallelism: number) {
  const built = build(params)
  const summary = await run(built.pipeline, { parallelism, module, params })
  return { summary, stats: table(built.stats.table()), byPair: table(built.byPair.table()) }
}

test('a salted aggregate gives the table of the unsalted one at parallelism 1 and 2', { timeout: 300_000 }, async () => {
  const plain = await results({}, 1)
  assert.equal(plain.stats.length, 50)
  for (const parallelism of [1, 2]) {
    for (const params of [{ salt: '4' }, { salt: '3', combine: 'true' }] as Record<string, string>[]) {
      const salted = await results(params, parallelism)
      const what = `${JSON.stringify(params)} at parallelism ${parallelism}`
      assert.deepEqual(salted.stats, plain.stats, what)
      assert.deepEqual(salted.byPair, plain.byPair, `tuple keys, ${what}`)
      // The first step holds a row per key and salt, the second merges at most `salt` partials per key.
      const kinds = salted.summary.steps.map((s) => s.kind)
      assert.equal(kinds.filter((k) => k === 'keyed-aggregate').length, 4, what)
    }
  }
})

test('salt must be a positive integer', () => {
  const p = pipeline('bad-salt')
  const keyed = p.from(source.generator({ count: 1, make: (g) => ({ k: g.seq }) })).keyBy((r) => r.k)
  assert.throws(() => keyed.aggregate(agg.count(), { salt: 0 }), { code: 'SLUICE_BAD_OPTION' })
  assert.throws(() => keyed.aggregate(agg.count(), { salt: 1.5 }), { code: 'SLUICE_BAD_OPTION' })
  keyed.aggregate(agg.count(), { salt: 2 }).to(sink.collect())
})
