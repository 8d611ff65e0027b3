import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseDuration } from './duration.ts'
import { SluiceError } from './errors.ts'

test('parses numbers and unit strings', () => {
  assert.equal(parseDuration(250, 'x'), 250)
  assert.equal(parseDuration('250ms', 'x'), 250)
  assert.equal(parseDuration('10s', 'x'), 10_000)
  assert.equal(parseDuration('5m', 'x'), 300_000)
  assert.equal(parseDuration('1h30m', 'x'), 5_400_000)
  assert.equal(parseDuration('2d', 'x'), 172_800_000)
  assert.equal(parseDuration('-5s', 'x', { allowNegative: true }), -5000)
})

test('rejects invalid durations naming the step', () => {
  for (const bad of ['10 parsecs', '', 's', '5x', '1.5.5s']) {
    assert.throws(() => parseDuration(bad, "step 'window-1'"), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_DURATION' && e.message.includes("step 'window-1'"))
  }
  assert.throws(() => parseDuration('-1s', 'w'), /must not be negative/)
  assert.throws(() => parseDuration(0, 'w', { allowZero: false }), /greater than zero/)
  assert.throws(() => parseDuration(Infinity, 'w'), /finite/)
})

test('a string of digits is milliseconds', () => {
  assert.equal(parseDuration('0', 'x'), 0)
  assert.equal(parseDuration('1500', 'x'), 1500)
})
