import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../core/clock.ts'
import { PolicyErrorSink } from './error-sink.ts'

test("an error record keeps the failed record's event time; without one it takes the run's clock, never the wall clock", () => {
  const clock = new ManualClock(42)
  const sink = new PolicyErrorSink('error-output', () => undefined)
  sink.configure({ now: () => clock.now() })
  sink.report('parse', new Error('bad'), { a: 1 }, 1_000, 'in.jsonl:3')
  sink.report('map', new Error('bad'), { a: 2 }, -Infinity, 'in.jsonl:4')
  clock.advance(8)
  sink.malformed('source', new Error('not JSON'), '{', NaN, 'in.jsonl:5')
  assert.deepEqual(sink.pending.take().times, [1_000, 42, 50])
})
