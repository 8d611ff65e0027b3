import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { stateBackendConformance } from '../conformance.ts'
import { CacheBudget } from './cache-budget.ts'
import { DurableStateBackend } from './durable-backend.ts'

// The caches of a thread's steps share one byte budget: the largest gives up cells past it, a quiet step's
// share goes to a busy one, and every value is still read back (from the store when the cache gave it up).

const open: { close(): void }[] = []
after(() => open.forEach((b) => b.close()))
function durable(cache: CacheBudget): DurableStateBackend {
  const b = new DurableStateBackend({ cache })
  open.push(b)
  return b
}

// The conformance suite with a second step's full cache beside it: its cells are what the first evicts first.
stateBackendConformance('durable, sharing a 4 KB budget with another step', (opts) => {
  const shared = new CacheBudget(4096)
  const other = durable(shared)
  const v = other.value<string>('v')
  for (let i = 0; i < 200; i++) v.set(i, 'x'.repeat(50))
  const b = new DurableStateBackend({ ...opts, cache: shared })
  open.push(b)
  return b
})

test('two steps share a budget: the busy one takes the quiet one\'s share, and both read back every value', () => {
  const budget = new CacheBudget(64 * 1024)
  const a = durable(budget)
  const b = durable(budget)
  const va = a.value<string>('v')
  const vb = b.value<string>('v')
  for (let i = 0; i < 5000; i++) va.set(i, `a${i}`.padEnd(100, '.'))
  assert.ok(a.cachedBytes > 50 * 1024, `a's cache took most of the budget (${a.cachedBytes} bytes)`)
  assert.ok(budget.used <= budget.limit + 1024, `the total stays within the limit (${budget.used})`)
  for (let i = 0; i < 5000; i++) vb.set(i, `b${i}`.padEnd(100, '.'))
  assert.ok(b.cachedBytes > a.cachedBytes, `b, now the busy one, holds more (${b.cachedBytes} against ${a.cachedBytes})`)
  assert.ok(a.cachedBytes < 32 * 1024, `a gave up its cells (${a.cachedBytes} bytes left)`)
  assert.ok(budget.used <= budget.limit + 1024, `the total stays within the limit (${budget.used})`)
  assert.equal(budget.used, a.cachedBytes + b.cachedBytes)
  for (let i = 0; i < 5000; i++) {
    assert.equal(va.get(i), `a${i}`.padEnd(100, '.'))
    assert.equal(vb.get(i), `b${i}`.padEnd(100, '.'))
  }
  a.close()
  assert.equal(budget.used, b.cachedBytes, 'a closed step holds nothing of the budget')
  for (let i = 0; i < 5000; i++) vb.set(i + 5000, 'c')
  assert.equal(vb.get(7), `b7`.padEnd(100, '.'))
})

test('a cache without a shared budget is bounded by its own cacheBytes', () => {
  const d = new DurableStateBackend({ cacheBytes: 8 * 1024 })
  open.push(d)
  const v = d.value<string>('v')
  for (let i = 0; i < 2000; i++) v.set(i, 'y'.repeat(100))
  assert.ok(d.cachedBytes <= 9 * 1024, `${d.cachedBytes} bytes held`)
  assert.equal(v.get(3), 'y'.repeat(100))
})
