import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Redeliveries } from './redeliveries.ts'

test('a redelivery is recognised by packet id, topic and payload within the window, and nothing else is', () => {
  const r = new Redeliveries(4)
  const a = Redeliveries.digest('t/a', Buffer.from('{"n":1}'))
  r.stored(1, a)
  assert.equal(r.isStored(1, a), true)
  assert.equal(r.isStored(1, Redeliveries.digest('t/a', Buffer.from('{"n":2}'))), false, 'another payload under a reused id')
  assert.equal(r.isStored(1, Redeliveries.digest('t/b', Buffer.from('{"n":1}'))), false, 'another topic')
  assert.equal(r.isStored(2, a), false, 'another id')
  for (let id = 2; id <= 5; id++) r.stored(id, Redeliveries.digest('t/a', Buffer.from(String(id))))
  assert.equal(r.isStored(1, a), false, 'out of the window')
  r.stored(3, a)
  assert.equal(r.isStored(3, a), true, 'a reused id takes the latest message')
})
