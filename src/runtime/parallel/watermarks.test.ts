import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SubtaskWatermarks } from './watermarks.ts'

test('the combined watermark is the minimum over subtasks and only moves forward', () => {
  const w = new SubtaskWatermarks(3)
  assert.equal(w.watermark(0, 10), undefined)
  assert.equal(w.watermark(1, 20), undefined)
  assert.deepEqual(w.watermark(2, 5), { wm: 5 })
  assert.equal(w.watermark(2, 4), undefined)
  assert.deepEqual(w.watermark(2, 30), { wm: 10 })
  assert.deepEqual(w.watermark(0, 40), { wm: 20 })
  for (let s = 0; s < 3; s++) w.watermark(s, Infinity)
  assert.equal(w.watermark(1, Infinity), undefined)
})

test('idle subtasks do not hold the watermark back; all idle makes the input idle', () => {
  const w = new SubtaskWatermarks(2)
  w.watermark(0, 100)
  assert.deepEqual(w.markIdle(1), { wm: 100 })
  assert.equal(w.markIdle(0), 'idle')
  assert.equal(w.markIdle(0), undefined)
  assert.deepEqual(w.watermark(1, 50), { wm: 100 }, 'back from idle: the input counts again, without going back')
  assert.deepEqual(w.watermark(1, 150), { wm: 150 })
})
