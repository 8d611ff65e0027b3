// End-to-end latency: a batch carries the time its source read it; sinks count, per record written, the time
// since then and since the record's event time into histograms of the metrics registry.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ManualClock, pipeline, sink, source, start, window, type WindowResult } from '../../src/index.ts'
import { quantileMs } from '../../src/core/latency-histogram.ts'

const T0 = Date.UTC(2026, 5, 1)

test('sinks measure written minus ingested and written minus event time, per record', async () => {
  const clock = new ManualClock(T0)
  const p = pipeline('latency', { batchSize: 4 })
  const out = sink.collect<number>()
  // Each record costs the clock 5 ms on its way: a batch of 4 is written 20 ms after it was read.
  p.from(source.collection([1, 2, 3, 4, 5, 6, 7, 8], { eventTime: () => T0 - 60_000 }))
    .map((n) => {
      clock.advance(5)
      return n
    })
    .to(out)
  const job = start(p, { clock })
  await job.done
  const sinkStep = job.metrics().steps.find((t) => t.kind.startsWith('sink'))!
  const { ingest, eventTime } = sinkStep.latency!
  assert.equal(ingest.count, 8)
  assert.equal(ingest.sumMs, 8 * 20)
  assert.equal(quantileMs(ingest, 1), 25) // the bucket of 20 ms
  assert.equal(eventTime.count, 8)
  // Event time is a minute behind the first read, and the clock moved 40 ms by the second batch.
  assert.equal(eventTime.sumMs, 4 * 60_020 + 4 * 60_040)
  assert.equal(quantileMs(eventTime, 0.5), 120_000)
  assert.equal(job.metrics().steps.find((t) => t.kind.startsWith('source'))!.latency, undefined)
})

test('a window result carries the ingestion time of the batch whose watermark closed the window', async () => {
  const clock = new ManualClock(T0)
  const p = pipeline('latency-window', { batchSize: 2 })
  const out = sink.collect<WindowResult<'all', number>>()
  // Batches [0 s, 10 s], [20 s, 70 s], [80 s, 130 s]: the second closes the first minute, the third the second.
  const events = [0, 10_000, 20_000, 70_000, 80_000, 130_000].map((dt) => ({ ts: T0 + dt }))
  p.from(source.collection(events, { eventTime: (e) => e.ts }))
    .map((e) => {
      clock.advance(1)
      return e
    })
    .keyBy(() => 'all')
    .window(window.tumbling({ size: '1m' }))
    .count()
    .to(out)
  const job = start(p, { clock })
  await job.done
  assert.deepEqual(out.values.map((r) => r.value), [3, 2, 1])
  const { ingest, eventTime } = job.metrics().steps.find((t) => t.kind.startsWith('sink'))!.latency!
  // Each closing batch was read 2 ms (two records through the map) before its window's result was written; the
  // last window closes at the end of input, which no batch caused.
  assert.equal(ingest.count, 2)
  assert.equal(ingest.sumMs, 4)
  assert.equal(eventTime.count, 3)
})
