import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BarrierGate, SubtaskBarrier } from './barrier-gate.ts'

test('a gate holds what follows the barrier on an input until the barrier came through every input', () => {
  const seen: string[] = []
  const gate = new BarrierGate(2, 'join', () => void seen.push('snapshot'), (e) => assert.fail(String(e)))
  gate.pass(0, () => seen.push('a1'))
  gate.barrier(0)
  gate.pass(0, () => seen.push('a2'))
  gate.pass(1, () => seen.push('b1'))
  gate.barrier(1)
  gate.pass(1, () => seen.push('b2'))
  assert.deepEqual(seen, ['a1', 'b1', 'snapshot', 'a2', 'b2'])
  // The next barrier aligns afresh.
  gate.barrier(1)
  gate.pass(1, () => seen.push('b3'))
  gate.pass(0, () => seen.push('a3'))
  gate.barrier(0)
  assert.deepEqual(seen.slice(5), ['a3', 'snapshot', 'b3'])
})

test('while an asynchronous snapshot (a pre-commit) is pending, every input waits', async () => {
  const seen: string[] = []
  let done!: () => void
  const gate = new BarrierGate(1, 'sink', () => new Promise<void>((r) => (done = r)), (e) => assert.fail(String(e)))
  gate.barrier(0)
  gate.pass(0, () => seen.push('after'))
  assert.equal(seen.length, 0)
  done()
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(seen, ['after'])
  gate.pass(0, () => seen.push('later'))
  assert.deepEqual(seen, ['after', 'later'])
})

test('a second barrier on an input before the first aligned is an internal error', () => {
  const gate = new BarrierGate(2, 'x', () => {}, () => {})
  gate.barrier(0)
  assert.throws(() => gate.barrier(0), /second barrier/)
})

test('subtask alignment: what a subtask sends after its barrier waits until every subtask sent it', () => {
  const seen: string[] = []
  const b = new SubtaskBarrier(3)
  b.pass(0, () => seen.push('0a'))
  b.barrier(0, () => seen.push('all'))
  b.pass(0, () => seen.push('0b'))
  b.pass(1, () => seen.push('1a'))
  b.barrier(2, () => seen.push('all'))
  b.pass(2, () => seen.push('2b'))
  b.barrier(1, () => seen.push('all'))
  assert.deepEqual(seen, ['0a', '1a', 'all', '0b', '2b'])
  b.pass(1, () => seen.push('1b'))
  assert.deepEqual(seen.at(-1), '1b')
})
