// Worker threads are kept from one run to the next: a run that finished gives its workers back, the next run's
// threads take them (with the same results), and a run that failed ends its workers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { run } from '../../src/index.ts'
import { workerPool } from '../../src/runtime/executor/worker-pool.ts'
import * as tumbling from './fixtures/tumbling-count.ts'
import * as failing from './fixtures/failing.ts'

const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url).href

/** Waits until the pool holds `n` idle workers (a worker reports its thread over just after thread 0 closes the run). */
async function idle(n: number): Promise<void> {
  for (let i = 0; i < 500 && workerPool.size !== n; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(workerPool.size, n)
}

test('a second run takes the first run\'s workers, with the same results; a failed run ends its workers', async () => {
  const counts: string[] = []
  const started = workerPool.started
  for (let i = 0; i < 2; i++) {
    const { pipeline, out } = tumbling.build()
    const summary = await run(pipeline, { parallelism: 3, module: fixture('tumbling-count') })
    assert.equal(summary.status, 'finished')
    assert.equal(summary.recordsIn, 50_000)
    counts.push(JSON.stringify(out.values.map((r) => JSON.stringify(r)).sort()))
    await idle(2)
    assert.equal(workerPool.started, started + 2, 'the second run started no worker')
  }
  assert.equal(counts[1], counts[0])
  // A smaller run takes one of them; the other stays idle.
  const { pipeline, out } = tumbling.build()
  await run(pipeline, { parallelism: 2, module: fixture('tumbling-count') })
  assert.equal(out.values.reduce((a, r) => a + r.value, 0), 50_000)
  await idle(2)
  assert.equal(workerPool.started, started + 2)

  const f = failing.build({ onError: 'fail' })
  await assert.rejects(run(f.pipeline, { parallelism: 3, module: fixture('failing'), params: { onError: 'fail' } }), /bad record/)
  await idle(0)
  await workerPool.close()
})
