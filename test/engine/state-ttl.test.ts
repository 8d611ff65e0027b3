import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock, pipeline, run, sink, source } from '../../src/index.ts'

// Keyed state with a TTL, from a process function: entries expire after the TTL of processing time, and the
// run's summary shows state without a TTL (state that only grows).
test('process-function state with a TTL expires; state without one is reported', async () => {
  const clock = new ManualClock(0)
  const events = Array.from({ length: 40 }, (_, i) => ({ user: `u${i % 4}`, ts: i }))
  const out = sink.collect<{ user: string; seen: number }>()
  const p = pipeline('ttl', { batchSize: 1, state: { backend: 'heap' } })
  p.from(source.collection(events, { eventTime: (e) => e.ts }))
    .map((e) => {
      clock.advance(100) // 100 ms of processing time per record
      return e
    })
    .keyBy((e) => e.user)
    .process<{ user: string; seen: number }>({
      processElement(e, ctx) {
        const seen = ctx.state.value<number>({ name: 'seen', ttl: { ttl: '250ms' } })
        const total = ctx.state.value<number>('total')
        seen.set((seen.get() ?? 0) + 1)
        total.set((total.get() ?? 0) + 1)
        ctx.emit({ user: e.user, seen: seen.get()! })
      },
    })
    .to(out)
  const summary = await run(p, { clock })
  // Each user comes back every 400 ms, after its 'seen' entry (TTL 250 ms) has expired: it starts again at 1.
  assert.deepEqual(new Set(out.values.map((v) => v.seen)), new Set([1]))
  const state = summary.state?.find((s) => s.step === 'process-1')
  assert.ok(state !== undefined)
  assert.equal(state.entriesWithoutTtl, 4)
  // Keys held: the users whose state is left (their 'total'; every 'seen' of the last round has not expired yet).
  assert.equal(state.keys, 4)
})
