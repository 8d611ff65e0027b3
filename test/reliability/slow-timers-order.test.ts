// A process function whose onTimer is slow pauses while its timers fire (the event loop gets in), and what it
// emits, in order, is what a run where nothing is slow emits: the watermark, the records after it and the end of
// input wait for the paused firing.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pipeline, run, sink, source } from '../../src/index.ts'

async function once(slowMs: number): Promise<{ out: unknown[]; turnsWhileSlow: number }> {
  const clicks = Array.from({ length: 2000 }, (_, seq) => ({ seq, user: seq % 400 }))
  let ticks = 0
  let ticksAtFirst = -1
  let ticksAtLast = -1
  const out = sink.collect<unknown>()
  const p = pipeline('slow-timers', { batchSize: 256 })
  const events = p.from(source.collection(clicks, { eventTime: (c) => c.seq }))
  const keyed = events.keyBy((c) => c.user)
  // Every key's timer fires at one time (1000), so one firing holds 400 timers: 1 ms each when slow.
  const fired = keyed.process<{ user: number; n: number; at: number }>({
    processElement(c, ctx) {
      const n = ctx.state.value<number>('n')
      n.set((n.get() ?? 0) + 1)
      if (c.seq < 400) ctx.timers.eventTime(1000)
    },
    onTimer(time, ctx) {
      if (slowMs > 0) {
        if (ticksAtFirst < 0) ticksAtFirst = ticks
        ticksAtLast = ticks
        const until = performance.now() + slowMs
        while (performance.now() < until) {
          // blocks the thread
        }
      }
      ctx.emit({ user: ctx.key as number, n: ctx.state.value<number>('n').get() ?? 0, at: time })
    },
  })
  // The records themselves meet the timers' output in a union: a firing that let them by would show.
  fired.map((x) => ({ from: 'timer', ...x })).union(events.map((c) => ({ from: 'record', user: c.user, n: c.seq, at: c.seq }))).to(out)
  const timer = setInterval(() => ticks++, 2)
  try {
    await run(p)
  } finally {
    clearInterval(timer)
  }
  return { out: out.values, turnsWhileSlow: ticksAtLast - ticksAtFirst }
}

test('a slow onTimer pauses its firing; the output, in order, is that of a run where nothing is slow', { timeout: 120_000 }, async () => {
  const fast = await once(0)
  const slow = await once(1)
  assert.ok(slow.turnsWhileSlow > 0, 'the event loop turned while the timers fired')
  assert.equal(slow.out.length, 2400)
  assert.deepEqual(slow.out, fast.out)
})
