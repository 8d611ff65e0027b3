import { test } from 'node:test'
import assert from 'node:assert/strict'
import { run, SluiceError } from '../../src/index.ts'
import { build } from './fixtures/failing.ts'
import { build as buildTumbling } from './fixtures/tumbling-count.ts'

const module = new URL('./fixtures/failing.ts', import.meta.url).href

test("a user function failing in a worker under 'fail' rejects the run, naming the step", async () => {
  const params = { onError: 'fail' }
  const { pipeline, errors } = build(params)
  await assert.rejects(run(pipeline, { parallelism: 2, module, params }), (e: unknown) => {
    assert.ok(e instanceof SluiceError)
    assert.equal(e.code, 'SLUICE_USER_FUNCTION_FAILED')
    assert.equal(e.step, 'explode')
    assert.match(e.describe(), /bad record 999/)
    return true
  })
  assert.equal(errors.values.length, 0)
})

test("under 'error-output' the failed records of every subtask reach errors() on the main thread", async () => {
  const params = { onError: 'error-output' }
  for (const parallelism of [2, 4]) {
    const { pipeline, out, errors } = build(params)
    const summary = await run(pipeline, { parallelism, module, params })
    assert.equal(summary.status, 'finished')
    assert.equal(out.values.length, 9990)
    assert.deepEqual(errors.values.map((r) => (r.record as { seq: number }).seq).sort((a, b) => Number(a) - Number(b)), [999, 1999, 2999, 3999, 4999, 5999, 6999, 7999, 8999, 9999])
    assert.ok(errors.values.every((r) => r.step === 'explode' && r.error === `bad record ${(r.record as { seq: number }).seq}`))
    assert.equal(summary.errors, 10)
    assert.equal(summary.steps.find((m) => m.step === 'explode')?.errors, 10)
  }
})

test("under 'skip' failed records are counted and dropped in the workers", async () => {
  const params = { onError: 'skip' }
  const { pipeline, out, errors } = build(params)
  const summary = await run(pipeline, { parallelism: 3, module, params })
  assert.equal(out.values.length, 9990)
  assert.equal(errors.values.length, 0)
  assert.equal(summary.errors, 10)
  assert.equal(summary.dropped, 10)
})

test('a parallel run without the pipeline module is a user error', async () => {
  const { pipeline } = buildTumbling()
  await assert.rejects(run(pipeline, { parallelism: 2 }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_PARALLEL_NEEDS_MODULE' && e.domain === 'user' && /module/.test(e.message))
})

test('a module that builds a different pipeline is rejected', async () => {
  const { pipeline } = buildTumbling()
  await assert.rejects(run(pipeline, { parallelism: 2, module, params: { onError: 'fail' } }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_PARALLEL_PLAN_MISMATCH')
})
