import { test } from 'node:test'
import assert from 'node:assert/strict'
import { priceOf } from '../../src/connectors/nexmark/price.ts'
import { EventRandom } from '../../src/connectors/nexmark/random.ts'

const exact = (u: number): number => Math.round(Math.pow(10, ((u >>> 0) / 4294967296) * 6) * 100)

test('priceOf gives the price of the exact formula, Math.round(10^(6u / 2^32) * 100)', () => {
  const edges = [0, 1, 255, 256, 0xffff, 0x10000, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]
  for (const u of edges) assert.equal(priceOf(u | 0), exact(u), `u = ${u}`)
  for (let u = 0; u < 4294967296; u += 65_537) assert.equal(priceOf(u | 0), exact(u), `u = ${u}`)
  const rng = new EventRandom()
  rng.reset(0, 0)
  for (let i = 0; i < 200_000; i++) {
    const u = rng.nextBits()
    assert.equal(priceOf(u), exact(u), `u = ${u}`)
  }
})

test('prices at a rounding half take the exact formula', () => {
  // Search values whose scaled power lies within 1e-6 of a half: the table product alone could round them either way.
  let found = 0
  for (let u = 0; u < 4294967296 && found < 50; u += 4099) {
    const y = Math.pow(10, (u / 4294967296) * 6) * 100
    if (Math.abs(y - Math.floor(y) - 0.5) < 1e-6) {
      found++
      assert.equal(priceOf(u | 0), exact(u), `u = ${u}`)
    }
  }
  assert.ok(found > 0)
})

test('nextBits is the same draw as next, unscaled', () => {
  const a = new EventRandom()
  const b = new EventRandom()
  a.reset(3, 12_345)
  b.reset(3, 12_345)
  for (let i = 0; i < 1000; i++) assert.equal((a.nextBits() >>> 0) / 4294967296, b.next())
})
