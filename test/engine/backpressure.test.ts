import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline, run, source, type Sink } from '../../src/index.ts'

test('a slow sink makes the source wait: what was produced but not yet written stays within a bound', async () => {
  const batchSize = 512
  const total = 200_000
  let produced = 0
  let written = 0
  // Source records up to the last one the sink has finished writing (the filter drops some on the way).
  let writtenUpTo = 0
  let maxInFlight = 0
  let writes = 0
  const slow: Sink<number> = {
    kind: 'slow',
    guarantee: 'none',
    describe: () => ({ kind: 'slow' }),
    open: () => ({
      write(batch) {
        // What the source made beyond what reached the sink, including this batch.
        maxInFlight = Math.max(maxInFlight, produced - writtenUpTo)
        writes++
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            written += batch.values.length
            writtenUpTo = batch.values[batch.values.length - 1] / 2 + 1
            resolve()
          }, 1),
        )
      },
      close() {},
    }),
  }
  const p = pipeline('backpressure', { batchSize })
  p.from(
    source.generator({
      count: total,
      make: (g) => {
        produced++
        return g.seq
      },
    }),
  )
    .map((x) => x * 2)
    .filter((x) => x % 3 !== 1)
    .to(slow)
  const s = await run(p)
  assert.equal(s.status, 'finished')
  assert.equal(produced, total)
  let kept = 0
  for (let i = 0; i < total; i++) if ((2 * i) % 3 !== 1) kept++
  assert.equal(written, kept)
  assert.ok(writes >= total / batchSize)
  assert.ok(maxInFlight <= 2 * batchSize, `${maxInFlight} records in flight`)
})
