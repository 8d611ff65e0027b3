import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline, run, source, SluiceError, type Progress, type Sink } from '../../src/index.ts'

// A sink write that never settles: the job fails with SLUICE_SINK_TIMEOUT naming the sink after the
// pipeline's sinkWriteTimeout (instead of hanging, or of the process exiting with nothing left to wait on),
// the progress line says which sink is stuck meanwhile, and a stop waits at most stopTimeout for it.

/** A sink whose writes, from the `after`-th on, never settle (and hold no handle open); `onStuck` when the first does. */
function stuckSink(after = 0, onStuck: () => void = () => {}): Sink<unknown> {
  let n = 0
  return {
    kind: 'stuck',
    guarantee: 'none',
    describe: () => ({ kind: 'stuck' }),
    open: () => ({
      write: () => {
        if (n++ < after) return
        if (n === after + 1) onStuck()
        return new Promise<void>(() => {})
      },
      close() {},
    }),
  }
}

test('a write that never settles fails the job after sinkWriteTimeout, naming the sink', async () => {
  const p = pipeline('stuck-write', { sinkWriteTimeout: '1500ms' })
  p.from(source.collection([1, 2, 3])).to(stuckSink(), { id: 'out' })
  await assert.rejects(run(p), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SINK_TIMEOUT' && e.step === 'out' && /a write of 'out' has not finished/.test(e.message) && /sinkWriteTimeout/.test(e.hint ?? ''))
})

test('while a write is stuck the progress says which sink it waits on', async () => {
  const p = pipeline('stuck-progress', { sinkWriteTimeout: '7s' })
  p.from(source.collection([1, 2, 3])).to(stuckSink(), { id: 'out' })
  const seen: Progress[] = []
  await assert.rejects(run(p, { onProgress: (pr) => void seen.push(pr), progressIntervalMs: 100 }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SINK_TIMEOUT')
  const stuck = seen.filter((pr) => pr.stuck !== undefined)
  assert.ok(stuck.length > 0, 'a progress update named the stuck sink')
  assert.equal(stuck[0].stuck!.step, 'out')
  assert.ok(stuck[0].stuck!.ms >= 5000)
})

test('a stop waits at most stopTimeout for a stuck write', async () => {
  const p = pipeline('stuck-stop', { sinkWriteTimeout: '10m', stopTimeout: '1s' })
  const stop = new AbortController()
  p.from(source.generator({ make: (g) => g.seq, ratePerSecond: 1000 })).to(stuckSink(1, () => stop.abort()), { id: 'out' })
  await assert.rejects(run(p, { signal: stop.signal }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SINK_TIMEOUT' && e.step === 'out' && /stopTimeout/.test(e.hint ?? ''))
})
