import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline, run, sink, source } from '../../src/index.ts'
import type { StateOptions } from '../../src/core/state-options.ts'

const rows = Array.from({ length: 3000 }, (_, i) => ({ k: i % 700, note: `${i}`.padEnd(200, '.') }))

function counts(state: StateOptions): Promise<Map<number, number>> {
  const out = sink.collect<{ k: number; n: number }>()
  const p = pipeline('cache')
  p.from(source.collection(rows))
    .keyBy((r) => r.k)
    .reduce((a, b) => ({ k: a.k, note: a.note + b.note.slice(0, 1) }))
    .map((r) => ({ k: r.value.k, n: r.value.note.length }))
    .to(out)
  return run(p, { state }).then(() => new Map(out.values.map((r) => [r.k, r.n])))
}

test("the durable store's cache options: a cache of a few KB gives the heap's results; bad values are refused naming the option", async () => {
  const heap = await counts({ backend: 'heap' })
  assert.equal(heap.size, 700)
  assert.deepEqual(await counts({ backend: 'durable', cacheBytes: '4KB' }), heap)
  assert.deepEqual(await counts({ backend: 'durable', cacheEntries: 3 }), heap)
  const p = () => pipeline('cache').from(source.collection([1])).to(sink.blackhole()).pipeline
  await assert.rejects(async () => run(p(), { state: { backend: 'durable', cacheEntries: 0 } }), /state\.cacheEntries must be a positive integer, got 0/)
  await assert.rejects(async () => run(p(), { state: { backend: 'durable', cacheBytes: 'lots' } }), /state\.cacheBytes/)
  assert.throws(() => pipeline('cache', { state: { backend: 'durable', cacheEntries: 1.5 } }), /pipeline 'cache': state\.cacheEntries must be a positive integer, got 1\.5/)
  assert.throws(() => pipeline('cache', { state: { backend: 'durable', cacheBytes: 0 } }), /pipeline 'cache': state\.cacheBytes/)
})
