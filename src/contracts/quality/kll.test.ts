import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { KllSketch } from './kll.ts'

function rankError(sorted: number[], v: number, q: number): number {
  let lo = 0
  while (lo < sorted.length && sorted[lo] < v) lo++
  let hi = lo
  while (hi < sorted.length && sorted[hi] === v) hi++
  const target = q * sorted.length
  return target < lo ? (lo - target) / sorted.length : target > hi ? (target - hi) / sorted.length : 0
}

test('quantiles stay within the documented rank error, whole or merged from parts', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 20_000 }), fc.integer({ min: 1, max: 5 }), (xs, parts) => {
      const whole = new KllSketch()
      for (const x of xs) whole.add(x)
      const merged = new KllSketch()
      const size = Math.ceil(xs.length / parts)
      for (let p = 0; p < parts; p++) {
        const s = new KllSketch(200, p + 1)
        for (const x of xs.slice(p * size, (p + 1) * size)) s.add(x)
        merged.merge(KllSketch.restore(structuredClone(s.snapshot())))
      }
      const sorted = [...xs].sort((a, b) => a - b)
      for (const s of [whole, merged]) {
        assert.equal(s.n, xs.length)
        for (const q of [0, 0.01, 0.25, 0.5, 0.75, 0.99, 1]) assert.ok(rankError(sorted, s.quantile(q)!, q) <= 0.017, `q ${q}`)
      }
    }),
    { numRuns: 40 },
  )
})

test('a large skewed input keeps the bound with little memory', () => {
  let seed = 7
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const xs = Array.from({ length: 300_000 }, () => Math.floor(-Math.log(1 - rnd()) * 1000))
  const s = new KllSketch()
  for (const x of xs) s.add(x)
  const sorted = [...xs].sort((a, b) => a - b)
  for (const q of [0.01, 0.1, 0.5, 0.9, 0.99]) assert.ok(rankError(sorted, s.quantile(q)!, q) <= 0.017, `q ${q}`)
  assert.ok(s.snapshot().levels.flat().length < 2_000)
})
