import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { watermark } from './watermark.ts'
import { pipeline, run, sink, source, type KeyedProcessFunction } from '../index.ts'

test('bounded out-of-order: never goes backwards, and stays delay + 1 behind the highest timestamp', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -1e12, max: 1e12 }), { maxLength: 200 }), fc.integer({ min: 0, max: 1e6 }), (tss, delay) => {
      const g = watermark.boundedOutOfOrder(delay).create()
      assert.equal(g.current(), -Infinity)
      let prev = -Infinity
      let max = -Infinity
      for (const t of tss) {
        g.onEvent(t)
        max = Math.max(max, t)
        const w = g.current()
        assert.ok(w >= prev, `watermark went back from ${prev} to ${w}`)
        assert.equal(w, max - delay - 1)
        prev = w
      }
    }),
    { numRuns: 500 },
  )
})

test('monotonic: the watermark trails the highest timestamp by 1 ms', () => {
  const g = watermark.monotonic().create()
  g.onEvent(10)
  g.onEvent(5)
  assert.equal(g.current(), 9)
})

interface Ev {
  key: number
  ts: number
}

interface Seen {
  watermarks: number[]
  timers: number[]
  registered: Set<number>
  records: number
}

/** Records the watermark it sees at every call, and the times its event-time timers fire at. */
function observer(seen: Seen, delayTimer: number): KeyedProcessFunction<number, Ev, number> {
  return {
    processElement(e, ctx) {
      seen.watermarks.push(ctx.watermark)
      seen.records++
      // Timers ahead of the watermark only: one behind it fires with the next watermark, after later ones
      // already fired (as in Flink), so order is only promised for timers set in the future.
      const t = Math.max(e.ts + delayTimer, ctx.watermark + 1)
      seen.registered.add(t)
      ctx.timers.eventTime(t)
    },
    onTimer(time, ctx) {
      seen.watermarks.push(ctx.watermark)
      seen.timers.push(time)
      assert.ok(time <= ctx.watermark, `timer ${time} fired before the watermark reached it (${ctx.watermark})`)
      ctx.emit(time)
    },
  }
}

const nonDecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1] <= x)

test('in whole pipelines the watermark a keyed function sees never decreases, and timers fire in order', async () => {
  const ev = fc.record({ key: fc.integer({ min: 0, max: 5 }), ts: fc.integer({ min: 0, max: 10_000 }) }).map((e) => ({ ...e }))
  await fc.assert(
    fc.asyncProperty(
      fc.array(ev, { minLength: 1, maxLength: 300 }),
      fc.array(ev, { maxLength: 300 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 0, max: 500 }),
      fc.integer({ min: -200, max: 200 }),
      async (a, b, partitions, batchSize, delay, delayTimer) => {
        const seen: Seen = { watermarks: [], timers: [], registered: new Set(), records: 0 }
        const p = pipeline('wm', { batchSize })
        const opts = { eventTime: (e: Ev) => e.ts, watermark: watermark.boundedOutOfOrder(delay), idleTimeout: '1s', partitions }
        const left = p.from(source.collection(a, opts)).map((e) => ({ ...e }))
        const right = p.from(source.collection(b, { ...opts, partitions: 1 }))
        const out = sink.collect<number>()
        left
          .union(right)
          .filter(() => true)
          .keyBy((e) => e.key)
          .process(observer(seen, delayTimer))
          .to(out)
        const summary = await run(p)
        assert.equal(summary.status, 'finished')
        assert.equal(seen.records, a.length + b.length)
        assert.ok(nonDecreasing(seen.watermarks), 'watermark seen by the function went backwards')
        assert.ok(nonDecreasing(seen.timers), 'event-time timers fired out of order')
        // Every timer fires by the end of a bounded run.
        assert.deepEqual(new Set(seen.timers), seen.registered)
        assert.ok(seen.timers.length <= a.length + b.length)
        assert.equal(summary.watermark, Infinity)
      },
    ),
    { numRuns: 60 },
  )
})
