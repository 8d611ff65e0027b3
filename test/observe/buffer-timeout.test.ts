// The buffer timeout: how long a record may wait in a source for its batch. Batches are cut by counts that
// follow from the options, never by the clock, so results do not depend on it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pipeline, run, sink, source, window, type SourceReader, type WindowResult } from '../../src/index.ts'
import type { SourceContext } from '../../src/core/source.ts'

const T0 = Date.UTC(2026, 5, 1)

test('bufferTimeout defaults to 10 ms and must be a positive duration', () => {
  assert.equal(pipeline('a').options.bufferTimeoutMs, 10)
  assert.equal(pipeline('b', { bufferTimeout: '250ms' }).options.bufferTimeoutMs, 250)
  assert.throws(() => pipeline('c', { bufferTimeout: '0ms' }), /bufferTimeout/)
})

test('a rate-limited generator releases batches of the buffer timeout\'s worth of its rate', async () => {
  const ctx = (bufferTimeoutMs?: number): SourceContext => ({ pipeline: 'p', stepId: 's', signal: new AbortController().signal, malformed: () => {}, ...(bufferTimeoutMs !== undefined ? { bufferTimeoutMs } : {}) })
  const sizes: number[] = []
  for (const ms of [10, 50, undefined]) {
    const reader = (await source.generator({ make: (g) => g.seq, ratePerSecond: 10_000 }).open(ctx(ms))) as SourceReader<number>
    let r = reader.read(0, 4096)
    while (r === null || r instanceof Promise) r = await r ?? reader.read(0, 4096)
    sizes.push((r as { values: number[] }).values.length)
    await reader.close()
  }
  assert.deepEqual(sizes, [100, 500, 1000])
})

test('window results are the same whatever the buffer timeout', async () => {
  const results: number[][] = []
  // At 200k records/s the generator's batches hold 200 records under 1 ms, 1024 (the batch size) under the others.
  for (const bufferTimeout of ['1ms', '10ms', '1s']) {
    const p = pipeline('windows', { bufferTimeout })
    const out = sink.collect<WindowResult<number, number>>()
    p.from(source.generator({ count: 30_000, ratePerSecond: 200_000, make: (g) => ({ k: g.seq % 3, ts: T0 + g.seq * 7 }), eventTime: (e: { ts: number }) => e.ts }))
      .keyBy((e) => e.k)
      .window(window.tumbling({ size: '10s' }))
      .count()
      .to(out)
    await run(p)
    results.push(out.values.map((r) => r.value))
  }
  assert.ok(results[0].length > 10)
  assert.deepEqual(results[1], results[0])
  assert.deepEqual(results[2], results[0])
})
