// Per-partition watermarks on a real topic: with idleTimeout, a partition that receives nothing stops holding
// the watermark back, so event-time windows of the busy partition fire while the job runs.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { agg, pipeline, run, sink, source, window } from '../../src/index.ts'
import { bootstrap, broker, createTopic, producer, topicName } from './support.ts'

test('an idle partition does not hold back the windows of a busy one', { skip: broker.skip }, async () => {
  const topic = topicName('idle')
  await createTopic(topic, 2)
  const p = await producer({ idempotent: true })
  try {
    // Partition 0 only: events over five seconds of event time; partition 1 stays empty.
    await p.send({ topic, messages: Array.from({ length: 50 }, (_, i) => ({ partition: 0, value: JSON.stringify({ ts: i * 100 }) })) })
  } finally {
    await p.disconnect()
  }
  const out = sink.collect<{ start: number; value: number }>()
  const job = pipeline('idle')
  job
    .from(source.kafka<{ ts: number }>({ brokers: bootstrap(), topics: topic, pollInterval: '20ms', eventTime: (e) => e.ts, idleTimeout: '300ms' }))
    .keyBy(() => 'all')
    .window(window.tumbling({ size: '1s' }))
    .aggregate(agg.count())
    .map((r) => ({ start: r.start, value: r.value }))
    .to(out)
  const stop = new AbortController()
  const running = run(job, { signal: stop.signal })
  // The source never ends: windows can only fire because partition 1 went idle.
  for (let i = 0; i < 200 && out.values.length < 4; i++) await sleep(50)
  stop.abort()
  await running
  assert.deepEqual(out.values.slice(0, 4), [0, 1000, 2000, 3000].map((start) => ({ start, value: 10 })))
})
