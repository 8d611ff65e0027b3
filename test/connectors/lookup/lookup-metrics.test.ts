// The lookup step's figures: what it emits once its lookups answer counts in its recordsOut, and a record
// whose lookup fails for good counts as an error, not as output.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline, sink, source, start } from '../../../src/index.ts'

test("records out of the lookup step are its recordsOut; failed ones are its errors", async () => {
  const p = pipeline('lookup-metrics', { batchSize: 16, onError: 'error-output' })
  p.from(source.collection(Array.from({ length: 100 }, (_, i) => i)))
    .lookup(async (k: number) => {
      if (k === 3) throw new Error('no such key')
      return k * 2
    }, { key: (n) => n % 10, into: (n, x) => ({ n, x }), retries: 0 })
    .to(sink.collect())
  p.errors().to(sink.collect())
  const job = start(p)
  assert.equal((await job.done).status, 'finished')
  const step = job.metrics().steps.find((t) => t.kind === 'lookup')
  assert.ok(step !== undefined, job.metrics().steps.map((t) => t.kind).join(', '))
  assert.deepEqual({ in: step.recordsIn, out: step.recordsOut, errors: step.errors }, { in: 100, out: 90, errors: 10 })
})
