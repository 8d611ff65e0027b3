import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WorkflowStore } from './store.ts'

/** A store holding a long history: `done` finished partitions and two with work left. */
function storeWithHistory(done: number): WorkflowStore {
  const store = new WorkflowStore(':memory:')
  const old = Array.from({ length: done }, (_, i) => `2020-${String(i).padStart(5, '0')}`)
  store.enqueue('hourly', ['ingest', 'publish'], [...old, '2026-01-01T10', '2026-01-01T11'], 1)
  const runs = old.flatMap((p) => [{ task: 'ingest', partition: p }, { task: 'publish', partition: p }])
  store.setStatus('hourly', runs, 'succeeded', ['pending'], 2)
  store.setStatus('hourly', [{ task: 'ingest', partition: '2026-01-01T10' }], 'succeeded', ['pending'], 2)
  return store
}

test('activeRuns: every run of the partitions with work left, none of the finished ones', () => {
  const store = storeWithHistory(5000)
  try {
    const active = store.activeRuns('hourly')
    assert.deepEqual(
      active.map((r) => `${r.partition} ${r.task} ${r.status}`),
      ['2026-01-01T10 ingest succeeded', '2026-01-01T10 publish pending', '2026-01-01T11 ingest pending', '2026-01-01T11 publish pending'],
    )
    assert.equal(store.activeRuns('other').length, 0)
  } finally {
    store.close()
  }
})

test('runs filters by status and partition in the store, long lists included; statusCounts counts each status', () => {
  const store = storeWithHistory(3000)
  try {
    assert.equal(store.runs('hourly').length, 2 * 3002)
    assert.equal(store.runs('hourly', { statuses: ['pending'] }).length, 3)
    const partitions = Array.from({ length: 2000 }, (_, i) => `2020-${String(i).padStart(5, '0')}`)
    assert.equal(store.runs('hourly', { partitions }).length, 4000, 'a list longer than SQLite binds in one statement')
    assert.deepEqual(store.runs('hourly', { statuses: ['succeeded'], partitions: ['2026-01-01T10', 'nope'] }).map((r) => r.task), ['ingest'])
    assert.equal(store.runs('hourly', { statuses: [] }).length, 0)
    assert.deepEqual(Object.fromEntries(store.statusCounts('hourly')), { pending: 3, succeeded: 6001 })
  } finally {
    store.close()
  }
})
