import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DeltaPolicy, type VertexPart } from './delta-policy.ts'

// Which checkpoints the policy makes full, for state that grows, state rewritten in place, state that shrinks,
// and steps that report no size.

const parts = (...ps: [number, VertexPart][]) => new Map(ps)
const part = (bytes: number, delta: boolean, stateSize?: number): VertexPart => ({ bytes, delta, stateSize })

/** Runs checkpoints whose vertex 1 writes what `step(i, delta)` says; the kinds the policy chose. */
function kinds(policy: DeltaPolicy, n: number, step: (i: number, delta: boolean) => VertexPart): boolean[] {
  const out: boolean[] = []
  for (let i = 0; i < n; i++) {
    const delta = policy.allowsDelta()
    out.push(delta)
    policy.completed(delta, parts([1, step(i, delta)]))
  }
  return out
}

test('state that only grows keeps taking deltas up to maxDeltas, each holding the new rows', () => {
  // 1,000 bytes of state a checkpoint, snapshots a tenth of the state's size: a full holds everything so far.
  const got = kinds(new DeltaPolicy(10), 14, (i, delta) => part(delta ? 100 : (i + 1) * 100, delta, (i + 1) * 1000))
  assert.deepEqual(got, [false, true, true, true, true, true, true, true, true, true, true, false, true, true])
})

test('state of constant size that is rewritten takes a full once its deltas add up to its base', () => {
  const got = kinds(new DeltaPolicy(10), 8, (_i, delta) => part(delta ? 40 : 100, delta, 1000))
  // 100 + 40 + 40 = 180 ≤ 200; + 40 = 220 > 200.
  assert.deepEqual(got, [false, true, true, true, false, true, true, true])
})

test('state that shrinks makes the chain mostly dead: a full follows sooner', () => {
  const got = kinds(new DeltaPolicy(10), 3, (i, delta) => part(delta ? 10 : 100, delta, i === 0 ? 1000 : 300))
  // Estimated full: 100 × 300/1000 = 30; the chain (110) is more than twice that.
  assert.deepEqual(got, [false, true, false])
})

test('a vertex without a size is judged by its bytes alone', () => {
  const got = kinds(new DeltaPolicy(10), 4, (_i, delta) => part(delta ? 120 : 100, delta))
  assert.deepEqual(got, [false, true, false, true])
})

test('vertices are judged together: a small one that rewrites its state does not make a large growing one full', () => {
  const p = new DeltaPolicy(10)
  assert.equal(p.allowsDelta(), false)
  p.completed(false, parts([1, part(1000, false, 10_000)], [2, part(10, false, 100)]))
  for (let i = 2; i <= 4; i++) {
    assert.equal(p.allowsDelta(), true)
    // Vertex 1 gains 1,000 bytes of rows a checkpoint; vertex 2 rewrites all of its 10 bytes each time.
    p.completed(true, parts([1, part(1000, true, i * 10_000)], [2, part(10, true, 100)]))
  }
  assert.equal(p.allowsDelta(), true, 'a chain of 4,040 bytes for a full of 4,010')
  // A vertex that cannot write deltas writes a full in a delta checkpoint: its own chain starts again.
  p.completed(true, parts([1, part(100, true, 50_000)], [2, part(5000, false, 100)]))
  assert.equal(p.allowsDelta(), true, 'vertex 2 counts its full once: 4,100 + 5,000 against 5,010 + 5,000')
  p.completed(true, parts([1, part(11_000, true, 50_000)]))
  assert.equal(p.allowsDelta(), false, 'a chain of 20,100 bytes for a full of 10,000')
})

test('no delta before the first full checkpoint, and none after reset ends the chain', () => {
  const p = new DeltaPolicy(10)
  assert.equal(p.allowsDelta(), false)
  p.completed(false, parts([1, part(10, false, 100)]))
  assert.equal(p.allowsDelta(), true, 'a full checkpoint starts a chain')
  p.reset()
  assert.equal(p.allowsDelta(), false)
})
