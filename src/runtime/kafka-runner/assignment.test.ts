import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assignRun } from './assignment.ts'

const member = (memberId: string, since: number) => ({ memberId, info: { since, pid: 1 } })

test('the oldest members are threads 0..n-1, the rest stand by, and every member has the same run and offsets', () => {
  const a = assignRun([member('c', 30), member('a', 10), member('b', 20), member('d', 40)], [5, 7], 3)
  assert.deepEqual(a.map((x) => [x.member, x.index, x.count]), [['a', 0, 3], ['b', 1, 3], ['c', 2, 3], ['d', -1, 3]])
  assert.equal(new Set(a.map((x) => x.run)).size, 1)
  assert.ok(a.every((x) => x.offsets.join() === '5,7'))
})

test('members that started together are ordered by id; every assignment is a new run', () => {
  const list = [member('y', 1), member('x', 1)]
  const first = assignRun(list, [0], 16)
  assert.deepEqual(first.map((x) => x.member), ['x', 'y'])
  assert.notEqual(assignRun(list, [0], 16)[0].run, first[0].run)
})
