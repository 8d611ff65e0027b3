import { test } from 'node:test'
import assert from 'node:assert/strict'
import { run } from '../../src/index.ts'
import { MAX_IN_FLIGHT } from '../../src/runtime/executor/router.ts'
import { BATCH_SIZE, build, stats } from './fixtures/slow-sink.ts'

test('a slow sink slows the sources: records read but not yet written stay within the channel credits', async () => {
  const parallelism = 2
  const { pipeline } = build()
  const summary = await run(pipeline, { parallelism, module: new URL('./fixtures/slow-sink.ts', import.meta.url).href })
  assert.equal(summary.status, 'finished')
  assert.equal(stats.produced, 20_000)
  assert.equal(stats.written, 20_000)
  // In flight: at most MAX_IN_FLIGHT bundles per worker (each at most one source batch), one answer being
  // written, and the batch being read.
  const bound = (MAX_IN_FLIGHT * parallelism + 2) * BATCH_SIZE
  assert.ok(stats.maxGap <= bound, `records read but not written reached ${stats.maxGap}, above ${bound}`)
  assert.ok(stats.maxGap < stats.produced / 10)
})
