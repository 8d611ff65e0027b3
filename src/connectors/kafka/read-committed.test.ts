import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import type { WireRecord } from './client.ts'
import { deliverable } from './read-committed.ts'

const rec = (offset: number, producerId: string, control?: 'abort' | 'commit'): WireRecord => ({
  offset: String(offset),
  timestamp: '0',
  key: control === undefined ? null : Buffer.from([0, 0, 0, control === 'abort' ? 0 : 1]),
  value: null,
  headers: {},
  isControlRecord: control !== undefined,
  batchContext: { producerId, inTransaction: true },
})

// Two producers' transactions interleaved (a0 b0 a1 b1 a2 b2), both aborted, then one committed record of each.
const log = [rec(0, 'A'), rec(1, 'B'), rec(2, 'A'), rec(3, 'B'), rec(4, 'A'), rec(5, 'B'), rec(6, 'A', 'abort'), rec(7, 'B', 'abort'), rec(8, 'A'), rec(9, 'A', 'commit'), rec(10, 'B'), rec(11, 'B', 'commit')]
const aborted = [
  { producerId: 'A', firstOffset: '0' },
  { producerId: 'B', firstOffset: '1' },
]

// A broker lists the aborted transactions that end at or after the fetch offset: starts 0 to 6 see both.
test('every fetch start inside two aborted transactions delivers only the committed records', () => {
  for (let start = 0; start < 7; start++) {
    assert.deepEqual(deliverable(log.slice(start), aborted).map((r) => r.offset), ['8', '10'], `from ${start}`)
  }
})

test("kafkajs's own filter lets an aborted record through here (why the connector has its own)", () => {
  const filter = createRequire(import.meta.url)('kafkajs/src/consumer/filterAbortedMessages.js') as (a: { messages: WireRecord[]; abortedTransactions: typeof aborted }) => WireRecord[]
  const got = filter({ messages: log.slice(3), abortedTransactions: aborted }).filter((r) => !r.isControlRecord)
  assert.notDeepEqual(got.map((r) => r.offset), ['8', '10'])
})

test('records outside transactions and commit markers pass; control records never do', () => {
  const plain = { ...rec(0, 'C'), batchContext: { producerId: 'C', inTransaction: false } }
  assert.deepEqual(deliverable([plain, rec(1, 'A'), rec(2, 'A', 'commit')], []).map((r) => r.offset), ['0', '1'])
})
