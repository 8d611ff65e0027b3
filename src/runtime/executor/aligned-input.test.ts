import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AlignedInput } from './aligned-input.ts'

function recorder() {
  const log: string[] = []
  return { log, out: { data: (x: string) => void log.push(x), watermark: (wm: number) => void log.push(`wm ${wm}`), idle: () => void log.push('idle') } }
}

test('the combined watermark is the minimum over subtasks and only moves forward', () => {
  const { log, out } = recorder()
  const w = new AlignedInput<string>(3, out)
  w.watermark(0, 10)
  w.watermark(1, 20)
  w.watermark(2, 5)
  w.watermark(2, 4)
  w.watermark(2, 30)
  w.watermark(0, 40)
  for (let s = 0; s < 3; s++) w.watermark(s, Infinity)
  w.watermark(1, Infinity)
  assert.deepEqual(log, ['wm 5', 'wm 10', 'wm 20', 'wm 30', 'wm Infinity'])
})

test('records wait for the watermark their subtask had sent before them', () => {
  const { log, out } = recorder()
  const w = new AlignedInput<string>(2, out)
  w.data(0, 'a0')
  w.watermark(0, 100)
  w.data(0, 'a100')
  w.watermark(0, 200)
  w.data(0, 'a200')
  w.data(1, 'b0')
  assert.equal(w.heldCount, 2)
  w.watermark(1, 150)
  w.data(1, 'b150')
  w.watermark(1, 300)
  assert.deepEqual(log, ['a0', 'b0', 'wm 100', 'a100', 'wm 150', 'b150', 'wm 200', 'a200'])
  assert.equal(w.heldCount, 0)
})

test('idle subtasks do not hold the watermark back; all idle makes the input idle and releases what was held', () => {
  const { log, out } = recorder()
  const w = new AlignedInput<string>(2, out)
  w.watermark(0, 100)
  w.data(0, 'x')
  w.markIdle(1)
  w.markIdle(0)
  w.markIdle(0)
  w.watermark(1, 50)
  w.watermark(1, 150)
  assert.deepEqual(log, ['wm 100', 'x', 'idle', 'wm 100', 'wm 150'])
})

test('releaseAll hands over held records without moving the watermark', () => {
  const { log, out } = recorder()
  const w = new AlignedInput<string>(2, out)
  w.watermark(0, 100)
  w.data(0, 'x')
  w.releaseAll()
  assert.deepEqual(log, ['x'])
  assert.equal(w.heldCount, 0)
})

test('held records are counted per sender until they are delivered', () => {
  const { log, out } = recorder()
  const w = new AlignedInput<string>(2, out)
  w.watermark(0, 100)
  w.watermark(1, 10)
  w.data(0, 'a')
  w.data(0, 'b')
  w.data(1, 'c')
  assert.deepEqual([w.heldFrom(0), w.heldFrom(1)], [2, 0])
  w.watermark(1, 100)
  assert.deepEqual([w.heldFrom(0), w.heldFrom(1)], [0, 0])
  w.watermark(0, 200)
  w.data(0, 'd')
  assert.equal(w.heldFrom(0), 1)
  w.releaseAll()
  assert.equal(w.heldFrom(0), 0)
  assert.deepEqual(log, ['wm 10', 'c', 'wm 100', 'a', 'b', 'd'])
})
