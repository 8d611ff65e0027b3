import assert from 'node:assert/strict'
import { test } from 'node:test'
import { keyGroupOf, keyId } from '../../core/key.ts'
import { StepMetrics } from '../../core/metrics.ts'
import { HeapStateBackend } from '../../state/heap/heap-backend.ts'
import { DurableStateBackend } from '../../state/durable/durable-backend.ts'
import type { StateBackend } from '../../core/state-backend.ts'
import { approxBytes, readKeyGroupState, walkDue } from './state-size.ts'

test('approxBytes adds up the members of a value', () => {
  assert.equal(approxBytes(3), 8)
  assert.equal(approxBytes('abc'), 6)
  assert.equal(approxBytes({ n: 3, tags: ['a', 'bc'] }), 16 + 2 + 8 + 8 + 16 + 2 + 4)
  assert.equal(approxBytes(new Map([['k', 1]])), 16 + 2 + 8)
  assert.ok(approxBytes(new Set(Array.from({ length: 100 }, (_, i) => i))) > 800)
})

for (const [name, make] of [['heap', () => new HeapStateBackend()], ['durable', () => new DurableStateBackend()]] as const) {
  test(`${name}: keys and bytes per key group, a key counted once whatever states it has`, () => {
    const b: StateBackend = make()
    try {
      const v = b.value<number[]>('v')
      const m = b.map<string, number>('m')
      const keys = ['a', 'b', 'c', 42, ['t', 1]] as const
      for (const k of keys) {
        const id = keyId(k)
        v.set(id, [1, 2, 3])
        m.set(id, 'x', 1)
      }
      const metrics = new StepMetrics('agg', 'keyed-aggregate')
      readKeyGroupState(b, metrics, 0, 10)
      const byGroup = metrics.keyGroupKeys!
      assert.equal(byGroup.length, 128)
      assert.equal(byGroup.reduce((a, n) => a + n, 0), keys.length)
      for (const k of keys) assert.ok(byGroup[keyGroupOf(keyId(k))] >= 1)
      const bytes = metrics.keyGroupBytes!
      for (let g = 0; g < 128; g++) assert.equal(bytes[g] > 0, byGroup[g] > 0, `group ${g}`)
      // The heap estimates decoded values; the durable store counts the bytes it holds, undecoded.
      if (name === 'heap') assert.ok(bytes[keyGroupOf('a')] >= approxBytes([1, 2, 3]))
      else assert.ok(bytes[keyGroupOf('a')] >= JSON.stringify([1, 2, 3]).length)
    } finally {
      b.close()
    }
  })
}

test('a large state is walked at most every 10 s', () => {
  const b = new HeapStateBackend()
  const v = b.value<number>('v')
  const metrics = new StepMetrics('agg', 'keyed-aggregate')
  v.set('a', 1)
  readKeyGroupState(b, metrics, 0, 100)
  v.set('b', 1)
  readKeyGroupState(b, metrics, 5_000, 20_000)
  assert.equal(metrics.keyGroupKeys!.reduce((a, n) => a + n, 0), 1, 'not read again within 10 s')
  readKeyGroupState(b, metrics, 10_000, 20_000)
  assert.equal(metrics.keyGroupKeys!.reduce((a, n) => a + n, 0), 2)
  // A small state is read every time.
  v.set('c', 1)
  readKeyGroupState(b, metrics, 10_001, 3)
  assert.equal(metrics.keyGroupKeys!.reduce((a, n) => a + n, 0), 3)
})

test('a walk waits in proportion to its foreseen cost, from the last walk\'s time per entry', () => {
  assert.equal(walkDue(undefined, 0, 5_000), true, 'small state, never walked')
  // Never walked: about 2 µs an entry, counted from when the figures were first asked for.
  assert.equal(walkDue(undefined, 0, 1e6), false, 'a large state is not walked the first time its figures are asked for')
  assert.equal(walkDue(undefined, 99_999, 1e6, 10_000, 0), false, 'a walk of about 2 s waits 100 s')
  assert.equal(walkDue(undefined, 100_000, 1e6, 10_000, 0), true)
  assert.equal(walkDue({ at: 0, took: 1, entries: 1e6 }, 5, 5_000), true, 'small state is walked every time')
  const last = { at: 0, took: 100, entries: 100_000 }
  assert.equal(walkDue(last, 9_999, 100_000), false, 'within 10 s')
  assert.equal(walkDue(last, 10_000, 100_000), true, '100 ms is 1% of 10 s')
  // Ten times the entries: a walk of about 1 s, which is 2% of 50 s.
  assert.equal(walkDue(last, 49_999, 1_000_000), false)
  assert.equal(walkDue(last, 50_000, 1_000_000), true)
})

test('a large state whose figures are first asked for as the run ends is not walked then', () => {
  const b = new HeapStateBackend()
  const v = b.value<number>('v')
  v.set('a', 1)
  const metrics = new StepMetrics('agg', 'keyed-aggregate')
  readKeyGroupState(b, metrics, 50_000, 2_000_000)
  assert.equal(metrics.keyGroupKeys, undefined, 'a walk of 2M entries (about 4 s) is not paid at once')
  readKeyGroupState(b, metrics, 249_999, 2_000_000)
  assert.equal(metrics.keyGroupKeys, undefined)
  readKeyGroupState(b, metrics, 250_000, 2_000_000)
  assert.equal(metrics.keyGroupKeys!.reduce((a, n) => a + n, 0), 1, 'walked once 2% of the time since covers it')
})
