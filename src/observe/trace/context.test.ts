import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatTraceparent, parseTraceparent, traceparentOf } from './context.ts'

const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

test('traceparent: valid version-00 values parse and format back', () => {
  const c = parseTraceparent(valid)
  assert.deepEqual(c, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true })
  assert.equal(formatTraceparent(c!), valid)
  assert.equal(parseTraceparent(valid.replace(/01$/, '00'))?.sampled, false)
  assert.equal(traceparentOf(Buffer.from(` ${valid.toUpperCase()} `)), valid)
  assert.equal(traceparentOf([Buffer.from(valid)]), valid)
})

test('traceparent: anything else is no context', () => {
  for (const bad of ['', 'x', valid.replace(/^00/, '01'), valid.slice(0, -1), `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, 42, undefined, null]) {
    assert.equal(parseTraceparent(bad), undefined, String(bad))
    assert.equal(traceparentOf(bad), undefined)
  }
})
