import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Batch } from '../../core/batch.ts'
import { StepMetrics } from '../../core/metrics.ts'
import type { ErrorSink, Output } from '../../core/operator.ts'
import { FusedChain } from '../../operators/stateless/fused-chain.ts'
import type { Vertex } from '../vertex.ts'
import { pipeline, sink, source } from '../../index.ts'
import { buildPlan } from '../../plan/physical-plan.ts'
import { mayPause, YieldingChain } from './yielding-chain.ts'

const errors: ErrorSink = {
  report: (_s, e) => {
    throw e
  },
  retry: (_s, e) => {
    throw e
  },
}

/** What reaches downstream, in order: batches (as arrays) and released watermarks. */
function harness(pauseEvery: number) {
  const chain = new FusedChain([{ stepId: 'double', link: { op: 'map', fn: (x: number) => x * 2 }, metrics: new StepMetrics('double', 'map') }], errors)
  const seen: unknown[] = []
  const vertex = { forwarded: -Infinity, releaseWatermark: (wm: number) => seen.push({ wm }) }
  const out: Output = { emit: (b) => seen.push([...b.values]), side: () => {} }
  const y = new YieldingChain(chain, vertex as unknown as Vertex, (e) => assert.fail(String(e)))
  // The time is not looked at: the chain pauses after every `pauseEvery` records (a slow function, made certain).
  let n = 0
  chain.shouldYield = () => ++n % pauseEvery === 0
  return { chain, y, out, seen }
}

const batch = (from: number, n: number): Batch => ({ values: Array.from({ length: n }, (_, i) => from + i), times: new Array<number>(n).fill(0) })

test('a paused batch is emitted whole, and what arrives meanwhile (batches, watermarks) follows it in order', async () => {
  const { y, out, seen } = harness(1)
  y.process(batch(0, 300), out)
  assert.equal(y.busy, true)
  assert.deepEqual(seen, [], 'nothing is emitted before the batch is done')
  assert.equal(y.onWatermark(10), -Infinity, 'the watermark is held behind the paused batch')
  y.process(batch(300, 5), out)
  y.onWatermark(20)
  await y.drain()
  assert.equal(y.busy, false)
  assert.deepEqual(seen, [Array.from({ length: 300 }, (_, i) => 2 * i), { wm: 10 }, [600, 602, 604, 606, 608], { wm: 20 }])
  assert.equal(y.drain(), undefined)
})

test('the same output with and without pauses', async () => {
  const plain = harness(Infinity)
  const paused = harness(2)
  for (const h of [plain, paused]) {
    for (let b = 0; b < 5; b++) {
      h.y.process(batch(b * 200, 200), h.out)
      h.y.onWatermark(b)
    }
    await h.y.drain()
  }
  assert.deepEqual(paused.seen.filter(Array.isArray), plain.seen.filter(Array.isArray))
})

test('abandon: whoever waits for the paused batch gets the failure, and the rest is dropped', async () => {
  const { y, out, seen } = harness(1)
  y.process(batch(0, 300), out)
  const waiting = y.drain()!
  y.abandon(new Error('cancelled'))
  await assert.rejects(waiting, /cancelled/)
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(seen, [])
})

test('only a chain that is its source\'s one consumer may pause: elsewhere a pause would reorder what a shared downstream step sees', () => {
  const gen = () => source.generator({ count: 10, make: (g) => ({ id: g.seq, pay: g.seq % 2 === 0 }) })
  const chainsOf = (p: ReturnType<typeof pipeline>) => {
    const plan = buildPlan(p)
    return plan.vertices.filter((v) => v.role === 'chain').map((v) => mayPause(plan, v))
  }
  const single = pipeline('single')
  single.from(gen()).map((e) => e.id).to(sink.collect())
  assert.deepEqual(chainsOf(single), [true])

  // Two filters of one source meet in a join: if the first paused, the second's records would reach the join first.
  const shared = pipeline('shared')
  const events = shared.from(gen())
  const orders = events.filter((e) => !e.pay).keyBy((e) => e.id)
  const payments = events.filter((e) => e.pay).keyBy((e) => e.id)
  orders.join(payments, { ttl: '1h' }, (o, p) => ({ o, p })).to(sink.collect())
  assert.deepEqual(chainsOf(shared), [false, false])
})
