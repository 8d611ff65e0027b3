import { test } from 'node:test'
import assert from 'node:assert/strict'
import { run } from '../../src/index.ts'
import { build, seen } from './fixtures/unbounded.ts'

test('aborting a parallel run stops the sources, delivers what was in flight and closes the sinks', async () => {
  const { pipeline } = build()
  const stop = new AbortController()
  seen.onWrite = (written) => {
    if (written >= 5000) stop.abort()
  }
  const summary = await run(pipeline, { parallelism: 2, module: new URL('./fixtures/unbounded.ts', import.meta.url).href, signal: stop.signal })
  assert.equal(summary.status, 'stopped')
  assert.equal(summary.parallelism, 2)
  assert.equal(seen.closed, true)
  assert.ok(summary.recordsIn >= 5000)
  // Nothing read was lost: every record the sources read went through the keyed step into the sink.
  assert.equal(seen.written, summary.recordsIn)
  assert.equal(summary.steps.find((m) => m.step === 'pass')?.in, summary.recordsIn)
})
