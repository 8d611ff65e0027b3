import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SluiceError } from '../../core/errors.ts'
import { parseByteSize } from '../../core/byte-size.ts'
import { HeapStateBackend } from '../heap/heap-backend.ts'
import { estimateBytes } from './size-estimate.ts'
import { liveHeapBytes, StateMemoryBudget } from './memory-budget.ts'
import { ManualClock } from '../../core/clock.ts'
import { run } from '../../runtime/run.ts'
import { pipeline } from '../../api/pipeline.ts'
import { source, sink } from '../../connectors/index.ts'

test('a size is bytes, or a number with KB, MB, GB (1024s)', () => {
  assert.equal(parseByteSize('512MB', 'x'), 512 * 1024 * 1024)
  assert.equal(parseByteSize('1.5gb', 'x'), 1.5 * 1024 ** 3)
  assert.equal(parseByteSize('64KiB', 'x'), 65536)
  assert.equal(parseByteSize(1000, 'x'), 1000)
  assert.equal(parseByteSize('1000', 'x'), 1000)
  for (const bad of ['', 'lots', '-1MB', '5 parsecs', 0]) assert.throws(() => parseByteSize(bad, 'x'), /invalid size/)
})

test('estimates grow with what a value holds, and large containers are scaled from a sample', () => {
  assert.ok(estimateBytes('a'.repeat(1000)) > 1000)
  assert.ok(estimateBytes({ a: 'x'.repeat(100) }) > estimateBytes({ a: 1 }))
  const big = Array.from({ length: 10_000 }, (_, i) => `item-${i}`)
  const est = estimateBytes(big)
  assert.ok(est > 10_000 * 30 && est < 10_000 * 100, String(est))
  assert.ok(estimateBytes(new Map(big.map((s) => [s, s]))) > est)
})

test('the heap backend accounts its entries, and a write past the budget fails once, naming the step with most state', () => {
  const failures: SluiceError[] = []
  const budget = new StateMemoryBudget(100_000, (e) => failures.push(e))
  const small = new HeapStateBackend({ memory: budget, step: 'small' })
  const big = new HeapStateBackend({ memory: budget, step: 'big', clock: new ManualClock(0) })
  small.value<number>('n').set('k', 1)
  const rows = big.value<{ key: string; pad: string }>({ name: 'rows', ttl: { ttl: '1m' } })
  for (let i = 0; i < 1000 && failures.length === 0; i++) rows.set(`key-${i}`, { key: `key-${i}`, pad: 'p'.repeat(200) })
  assert.equal(failures.length, 1)
  const e = failures[0]
  assert.equal(e.code, 'SLUICE_STATE_MEMORY')
  assert.equal(e.step, 'big')
  assert.match(e.message, /step 'big' holds the most/)
  assert.match(e.hint!, /--state durable/)
  assert.match(e.hint!, /ttl/)
  for (let i = 1000; i < 1100; i++) rows.set(`key-${i}`, { key: `key-${i}`, pad: '' })
  assert.equal(failures.length, 1, 'reported once')
  // Entries removed (deleted or expired) leave the account.
  const before = big.approximateBytes()
  for (let i = 0; i < 100; i++) rows.delete(`key-${i}`)
  assert.ok(big.approximateBytes() < before)
  big.cleanup(120_000)
  assert.equal(big.approximateBytes(), 0)
})

test('the budget counts state changed in place (a growing list behind one key), seen on reads', () => {
  let failed: SluiceError | undefined
  const budget = new StateMemoryBudget(1_000_000, (e) => (failed = e))
  const b = new HeapStateBackend({ memory: budget, step: 'buffer' })
  const buffers = b.value<string[]>('buffers')
  buffers.set('k', [])
  for (let i = 0; i < 200_000 && failed === undefined; i++) buffers.get('k')!.push(`element ${i}`)
  assert.equal(failed?.code, 'SLUICE_STATE_MEMORY')
})

test('an estimate far above what the heap holds does not fail the job: the heap must be past the budget too', () => {
  // Strings cut from one shared string are small slices in V8, but an estimate counts their whole length:
  // 20,000 entries of 100 KB each are estimated at 2 GB, while the heap holds the 1 MB string and the slices.
  let failed: SluiceError | undefined
  const budget = new StateMemoryBudget(512 * 1024 * 1024, (e) => (failed = e))
  const b = new HeapStateBackend({ memory: budget, step: 'slices' })
  const pool = 'x'.repeat(1024 * 1024) + String(Math.random())
  const rows = b.value<string>('rows')
  for (let i = 0; i < 20_000; i++) rows.set(`key-${i}`, pool.slice(i % 1000, (i % 1000) + 100_000))
  assert.ok(budget.used() > 1024 * 1024 * 1024, 'the estimate is far past the budget')
  assert.ok(liveHeapBytes() < budget.limit, 'the heap is not')
  assert.equal(failed, undefined)
})

test('run fails with SLUICE_STATE_MEMORY past state.memoryBudget, whatever the error policy', async () => {
  const p = pipeline('grows', { onError: 'skip' })
    .from(source.generator({ count: 200_000, make: (g) => ({ user: `user-${g.seq}` }) }))
    .keyBy((r) => r.user)
    .process<string>({
      processElement(r, ctx) {
        ctx.state.value<string>('seen').set(r.user)
      },
    })
    .to(sink.blackhole())
  await assert.rejects(run(p.pipeline, { state: { memoryBudget: '2MB' } }), (e: unknown) => {
    assert.ok(e instanceof SluiceError)
    assert.equal(e.code, 'SLUICE_STATE_MEMORY')
    assert.match(e.message, /step 'process-1'/)
    return true
  })
  await assert.rejects(run(p.pipeline, { state: { memoryBudget: 'plenty' } }), /state.memoryBudget: invalid size 'plenty'/)
})
