import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mergeLate, mergeSources, mergeWatermarks } from './inspector.ts'

const part = (partition: number, watermark: number, lastDataAt: number) => ({ partition, watermark, idle: false, ended: false, lastDataAt })

test('late samples of every thread: counts add up, the latest 16 samples of all are kept', () => {
  const samples = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ at: from + i, late: { n: from + i } }))
  const merged = mergeLate([
    { step: 'w', seen: 30, samples: samples(0, 16) },
    { step: 'w', seen: 12, samples: samples(10, 12) },
    { step: 'j', seen: 1, samples: samples(5, 1) },
  ])
  assert.deepEqual(merged.map((m) => [m.step, m.seen, m.samples.length]), [['w', 42, 16], ['j', 1, 1]])
  assert.deepEqual(merged[0]!.samples.map((s) => s.at), [11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 17, 18, 19, 20, 21])
})

test('source partitions of every thread in partition order; one moved between threads shows once, as last read', () => {
  const merged = mergeSources([
    { step: 'read', partitions: [part(2, 5, 100), part(0, 7, 50)] },
    { step: 'read', partitions: [part(1, 3, 100), part(2, 9, 200)] },
  ])
  assert.deepEqual(merged, [{ step: 'read', partitions: [part(0, 7, 50), part(1, 3, 100), part(2, 9, 200)] }])
})

test("a step's watermark is the lowest of its subtasks'; an input is idle only when idle on every thread", () => {
  const merged = mergeWatermarks([
    { step: 'w', steps: ['w'], watermark: 10, inputs: [{ from: 'read', watermark: 10, idle: true }] },
    { step: 'w', steps: ['w'], watermark: 4, inputs: [{ from: 'read', watermark: 4, idle: false }] },
    { step: 'read', steps: ['read'], watermark: 12, inputs: [] },
  ])
  assert.deepEqual(merged, [
    { step: 'w', steps: ['w'], watermark: 4, inputs: [{ from: 'read', watermark: 4, idle: false }] },
    { step: 'read', steps: ['read'], watermark: 12, inputs: [] },
  ])
})
