import assert from 'node:assert/strict'
import { test } from 'node:test'
import { keyGroupOf } from '../core/key.ts'
import { DurableStateBackend } from '../state/durable/durable-backend.ts'
import { HeapStateBackend } from '../state/heap/heap-backend.ts'
import { KeyedSnapshotWriter, snapshotEntries, snapshotOf } from './keyed-snapshot.ts'

const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)

test('on a store, a full snapshot files one key group when it is read, with what was filed before it', () => {
  const state = new DurableStateBackend()
  try {
    const v = state.value<number>('v')
    for (const [i, k] of keys.entries()) v.set(k, i)
    const w = new KeyedSnapshotWriter(state.keyGroups)
    w.add('timers', 'k7', 1000)
    const filled: (number | undefined)[] = []
    const snap = snapshotOf(state, w, (kg) => {
      filled.push(kg)
      state.forEachValue<number>('v', (id, n) => w.add('rows', id, n), kg)
    })
    assert.deepEqual(filled, [], 'nothing read before the groups are')
    const g = keyGroupOf('k7', state.keyGroups)
    const group = snap.groups[g] as { rows: { k: unknown[] }; timers: { k: unknown[] } }
    assert.deepEqual(filled, [g])
    assert.ok(group.rows.k.includes('k7'))
    assert.deepEqual(group.timers.k, ['k7'])
    assert.ok(group.rows.k.every((k) => keyGroupOf(k, state.keyGroups) === g), 'only its own key group')
    const all = [...snapshotEntries<number>(snap, 'rows')]
    assert.equal(filled.length, state.keyGroups + 1, 'each group read once more, group g twice')
    assert.deepEqual(all.map(([k]) => k).sort(), [...keys].sort())
  } finally {
    state.close()
  }
})

test('on the heap, a full snapshot files every key group at once', () => {
  const state = new HeapStateBackend()
  const v = state.value<number>('v')
  for (const [i, k] of keys.entries()) v.set(k, i)
  const w = new KeyedSnapshotWriter(state.keyGroups)
  const filled: (number | undefined)[] = []
  const snap = snapshotOf(state, w, (kg) => {
    filled.push(kg)
    state.forEachValue<number>('v', (id, n) => w.add('rows', id, n), kg)
  }, { wm: 5 })
  assert.deepEqual(filled, [undefined])
  assert.deepEqual(snap.shared, { wm: 5 })
  assert.deepEqual(new Map(snapshotEntries<number>(snap, 'rows')), new Map(keys.map((k, i) => [k, i])))
})
