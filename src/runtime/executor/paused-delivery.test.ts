import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Batch } from '../../core/batch.ts'
import { StepMetrics } from '../../core/metrics.ts'
import type { ErrorSink, Output } from '../../core/operator.ts'
import { FusedChain } from '../../operators/stateless/fused-chain.ts'
import { PausableBatches } from '../../operators/pausable.ts'
import { PausedDelivery } from './paused-delivery.ts'

const errors: ErrorSink = {
  report: (_s, e) => {
    throw e
  },
  retry: (_s, e) => {
    throw e
  },
}

const batch = (from: number, n: number): Batch => ({ values: Array.from({ length: n }, (_, i) => from + i), times: new Array<number>(n).fill(0) })

/** A record-by-record step that adds `add` to each value and emits the batch once done. */
class AddStep extends PausableBatches {
  private readonly add: number
  constructor(add: number) {
    super()
    this.add = add
  }
  protected run(b: Batch, out: Output, _input: number, from: number): void {
    const acc = ((this as unknown as { acc?: number[] }).acc ??= [])
    for (let i = from; i < b.values.length; i++) {
      if (this.stopAt(i, from, b, out, _input)) return
      acc.push((b.values[i] as number) + this.add)
    }
    out.emit({ values: acc.splice(0), times: acc.map(() => 0) })
  }
}

/**
 * A source batch fanned out to two steps (`a`, `b`) whose outputs meet in one place (`seen`, as a join would
 * see them), each delivery going through `deliver` as the executor's outlets do.
 */
function fanOut(delivery: PausedDelivery | undefined, pauseEvery: number) {
  const seen: string[] = []
  const a = new FusedChain([{ stepId: 'a', link: { op: 'map', fn: (x: number) => x * 2 }, metrics: new StepMetrics('a', 'map') }], errors)
  const b = new AddStep(1000)
  const deliver = (f: () => void): void => {
    if (delivery?.paused === true) delivery.defer(f)
    else f()
  }
  const join = (tag: string): Output => ({ emit: (x) => deliver(() => seen.push(`${tag}:${x.values.join(',')}`)), side: () => {} })
  const outA = join('a')
  const outB = join('b')
  if (delivery !== undefined) {
    delivery.attach(a)
    delivery.attach(b)
    // The time is not looked at: each step pauses at every look after `pauseEvery` looks (a slow function, made certain).
    for (const s of [a, b]) {
      let n = 0
      s.shouldYield = () => ++n % pauseEvery === 0
    }
  }
  const source = (x: Batch): void => {
    deliver(() => a.process(x, outA))
    deliver(() => b.process(x, outB, 0))
    deliver(() => seen.push(`wm:${x.values[0]}`))
  }
  return { seen, source }
}

test('a pause holds the whole delivery: the other consumers, the rest of the upstream batch and the watermarks follow in order', async () => {
  const plain = fanOut(undefined, Infinity)
  for (let i = 0; i < 4; i++) plain.source(batch(i * 100, 100))

  for (const every of [1, 2, 3]) {
    const delivery = new PausedDelivery((e) => assert.fail(String(e)))
    const paused = fanOut(delivery, every)
    for (let i = 0; i < 4; i++) {
      paused.source(batch(i * 100, 100))
      if (i === 0) assert.equal(delivery.paused, true, 'the first batch paused')
      await delivery.idle()
    }
    assert.equal(delivery.busy, false)
    assert.deepEqual(paused.seen, plain.seen, `pausing after every ${every} looks`)
  }
})

test('deliveries made while paused wait for the paused step, then run in the order they were made', async () => {
  const delivery = new PausedDelivery((e) => assert.fail(String(e)))
  const { seen, source } = fanOut(delivery, 1)
  source(batch(0, 10))
  assert.equal(seen.length, 0, 'nothing reaches the join while the first step is paused')
  // Made while paused (a message handled meanwhile would be): queued behind everything before it.
  delivery.defer(() => seen.push('later'))
  await delivery.idle()
  assert.deepEqual(seen, ['a:0,2,4,6,8,10,12,14,16,18', 'b:1000,1001,1002,1003,1004,1005,1006,1007,1008,1009', 'wm:0', 'later'])
  assert.equal(delivery.idle(), undefined)
})

test('abandon: whoever waits for the held delivery gets the failure, and nothing more is delivered', async () => {
  const delivery = new PausedDelivery((e) => assert.fail(String(e)))
  const { seen, source } = fanOut(delivery, 1)
  source(batch(0, 300))
  const waiting = delivery.idle()!
  delivery.abandon(new Error('cancelled'))
  await assert.rejects(waiting, /cancelled/)
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(seen, [])
  await assert.rejects(delivery.idle()!, /cancelled/)
})

test('a step that throws while going on after a pause fails the thread', async () => {
  let failed: unknown
  const delivery = new PausedDelivery((e) => (failed = e))
  const boom = new FusedChain([{ stepId: 'boom', link: { op: 'map', fn: (x: number) => { if (x === 5) throw new Error('boom'); return x } }, metrics: new StepMetrics('boom', 'map') }], errors)
  delivery.attach(boom)
  boom.shouldYield = () => true
  boom.process(batch(0, 10), { emit: () => {}, side: () => {} })
  await assert.rejects(delivery.idle()!, /boom/)
  assert.match(String(failed), /boom/)
})

test('a fast batch is looked at rarely: after 1, 3, 7, ... records, then every 64', () => {
  const step = new AddStep(0)
  let looks = 0
  step.shouldYield = () => {
    looks++
    return false
  }
  let emitted = 0
  step.process(batch(0, 1024), { emit: (b) => (emitted += b.values.length), side: () => {} }, 0)
  assert.equal(emitted, 1024)
  // At 1, 3, 7, 15, 31, 63, 127 records, then every 64 up to 1023.
  assert.equal(looks, 7 + Math.floor((1023 - 127) / 64))
})
