import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { keyId } from '../core/key.ts'
import type { KeyedSnapshot } from '../core/operator.ts'
import { KeyedSnapshotWriter, readEntries } from '../operators/keyed-snapshot.ts'
import type { OperatorEntry } from './manifest.ts'
import { mergeKeyed, operatorStates } from './incremental.ts'
import { redistributeKeyed } from './redistribute.ts'

const G = 8

/** A snapshot of `rows` (key -> value) with a timer per key, as an operator writes it. */
function full(rows: [unknown, string][], timers: [unknown, number][] = []): KeyedSnapshot {
  const w = new KeyedSnapshotWriter(G)
  for (const [k, v] of rows) w.add('rows', k, v)
  for (const [k, t] of timers) w.add('timers', k, t)
  return w.build(undefined)
}

/** A delta: `changed` keys, with the current rows and timers of those that still hold state. */
function delta(changed: unknown[], rows: [unknown, string][], timers: [unknown, number][] = [], shared?: unknown): KeyedSnapshot {
  const w = new KeyedSnapshotWriter(G)
  for (const k of changed) w.changed(k)
  for (const [k, v] of rows) w.add('rows', k, v)
  for (const [k, t] of timers) w.add('timers', k, t)
  return w.build(shared)
}

const entries = (s: KeyedSnapshot, list: string) => readEntries(redistributeKeyed([s], 1)[0], list).map(([, k, d]) => [k, d])

test('a changed key takes its delta entries in every list; unchanged keys keep the base; removed keys are gone', () => {
  const base = full(
    [
      ['a', 'a0'],
      ['b', 'b0'],
      ['c', 'c0'],
    ],
    [
      ['a', 10],
      ['b', 20],
      ['c', 30],
    ],
  )
  const d = delta(['b', 'c', 'd'], [['b', 'b1'], ['d', 'd1']], [['b', 25]])
  const m = mergeKeyed(base, [d])
  assert.deepEqual(entries(m, 'rows'), [
    ['a', 'a0'],
    ['b', 'b1'],
    ['d', 'd1'],
  ])
  assert.deepEqual(entries(m, 'timers'), [
    ['a', 10],
    ['b', 25],
  ])
  assert.ok(Object.values(m.groups).every((g) => !('$changed' in (g as object))), 'the merged snapshot lists no changed keys')
})

test('several deltas: the newest change of a key wins; a key removed and added again comes back', () => {
  const base = full([
    ['a', 'a0'],
    ['b', 'b0'],
    ['c', 'c0'],
  ])
  const d1 = delta(['a', 'b'], [['a', 'a1']])
  const d2 = delta(['b', 'c'], [['b', 'b2']])
  const d3 = delta([], [])
  assert.deepEqual(entries(mergeKeyed(base, [d1, d2, d3]), 'rows'), [
    ['a', 'a1'],
    ['b', 'b2'],
  ])
  assert.deepEqual(entries(mergeKeyed(base, [d1]), 'rows'), [
    ['c', 'c0'],
    ['a', 'a1'],
  ])
})

test('an empty delta, or none, gives the base', () => {
  const base = full([
    ['a', 'a0'],
    [['t', 1], 't0'],
  ])
  assert.equal(mergeKeyed(base, []), base)
  assert.deepEqual(entries(mergeKeyed(base, [delta([], [])]), 'rows'), entries(base, 'rows'))
})

test('key groups and lists that only deltas hold are taken from them; tuple keys match by identity', () => {
  const base = full([[['t', 1], 'x0']])
  const d = delta([['t', 1], 'new'], [[['t', 1], 'x1'], ['new', 'n1']], [['new', 5]], { wm: 3 })
  const m = mergeKeyed(base, [d])
  assert.deepEqual(entries(m, 'rows'), [
    [['t', 1], 'x1'],
    ['new', 'n1'],
  ])
  assert.deepEqual(entries(m, 'timers'), [['new', 5]])
  assert.deepEqual(m.shared, { wm: 3 }, 'operator-wide data is the newest')
})

test('a merge shares unchanged groups with the base and leaves its inputs alone', () => {
  const base = full([
    ['a', 'a0'],
    ['b', 'b0'],
  ])
  const before = structuredClone(base)
  const d = delta(['a'], [['a', 'a1']])
  const m = mergeKeyed(base, [d])
  assert.deepEqual(base, before)
  const gb = Object.keys(base.groups).find((g) => (base.groups[Number(g)] as { rows: { k: unknown[] } }).rows.k.includes('b'))!
  const ga = Object.keys(base.groups).find((g) => (base.groups[Number(g)] as { rows: { k: unknown[] } }).rows.k.includes('a'))!
  if (ga !== gb) assert.equal((m.groups[Number(gb)] as { rows: unknown }).rows, (base.groups[Number(gb)] as { rows: unknown }).rows)
})

test('law: base plus deltas equals a full snapshot of the same state (contents, and base order before changes)', () => {
  const key = fc.constantFrom<unknown>('a', 'b', 'c', 'd', 'e', 1, 2, 3, ['t', 1], ['t', 2])
  const op = fc.oneof(fc.record({ set: key, v: fc.integer({ min: 0, max: 99 }) }), fc.record({ del: key }), fc.constant({ cut: true as const }))
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const state = new Map<unknown, [unknown, string]>()
      let base: KeyedSnapshot | undefined
      let changed = new Map<unknown, unknown>()
      const deltas: KeyedSnapshot[] = []
      const cut = () => {
        if (base === undefined) base = full([...state.values()], [...state.values()].map(([k]) => [k, 1]))
        else deltas.push(delta([...changed.values()], [...changed.keys()].filter((id) => state.has(id)).map((id) => state.get(id)!), [...changed.keys()].filter((id) => state.has(id)).map((id) => [state.get(id)![0], 1])))
        changed = new Map()
      }
      cut()
      for (const o of ops) {
        if ('cut' in o) cut()
        else if ('set' in o) {
          state.set(keyId(o.set), [o.set, String(o.v)])
          changed.set(keyId(o.set), o.set)
        } else {
          state.delete(keyId(o.del))
          changed.set(keyId(o.del), o.del)
        }
      }
      cut()
      const m = mergeKeyed(base!, deltas)
      const sorted = (xs: unknown[][]) => xs.map((x) => JSON.stringify(x)).sort()
      assert.deepEqual(sorted(entries(m, 'rows')), sorted([...state.values()]))
      assert.deepEqual(sorted(entries(m, 'timers')), sorted([...state.values()].map(([k]) => [k, 1])))
      // Keys unchanged since the base come first, in the base's order.
      const baseOrder = entries(base!, 'rows').map(([k]) => keyId(k))
      const mergedKeys = entries(m, 'rows').map(([k]) => keyId(k))
      const kept = baseOrder.filter((id) => mergedKeys.includes(id) && deltas.every((d) => !Object.values(d.groups).some((g) => ((g as Record<string, unknown[]>).$changed ?? []).some((k) => keyId(k) === id))))
      assert.deepEqual(mergedKeys.slice(0, kept.length), kept)
    }),
    { numRuns: 200 },
  )
})

test('operatorStates merges the files of a base and its deltas, in manifest order, parts of one layer joined', () => {
  const base = full([
    ['a', 'a0'],
    ['b', 'b0'],
    ['c', 'c0'],
  ])
  // The base in two parts, as a large snapshot is split into state files.
  const groups = Object.keys(base.groups).map(Number)
  const half = groups.slice(0, Math.ceil(groups.length / 2))
  const part = (gs: number[]): KeyedSnapshot => ({ keyGroups: G, groups: Object.fromEntries(gs.map((g) => [g, base.groups[g]])) })
  const files: Record<string, unknown> = {
    'b.0': part(half),
    'b.1': part(groups.filter((g) => !half.includes(g))),
    d8: delta(['a'], [['a', 'a8']]),
    d9: delta(['b'], []),
  }
  const ref = (file: string, checkpoint: number, isDelta: boolean) => ({ subtask: 0, file, bytes: 0, sha256: '', checkpoint, ...(isDelta ? { delta: true } : {}) })
  const op: OperatorEntry = { step: 's', kind: 'k', keyed: true, descriptor: {}, files: [ref('b.0', 7, false), ref('b.1', 7, false), ref('d8', 8, true), ref('d9', 9, true)] }
  const states = operatorStates(op, (f) => files[f.file])
  assert.equal(states.length, 1)
  assert.deepEqual(entries(states[0] as KeyedSnapshot, 'rows'), [
    ['c', 'c0'],
    ['a', 'a8'],
  ])
  const plain: OperatorEntry = { ...op, files: [ref('b.0', 7, false), ref('b.1', 7, false)] }
  assert.deepEqual(operatorStates(plain, (f) => files[f.file]), [files['b.0'], files['b.1']], 'without deltas, every file as it is')
  assert.throws(() => operatorStates({ ...op, files: [ref('d8', 8, true)] }, (f) => files[f.file]), /without a base/)
  assert.throws(() => operatorStates({ ...op, files: [ref('b.0', 7, false), ref('d8', 8, true), ref('b.1', 7, false)] }, (f) => files[f.file]), /listed after a delta/)

  // At parallelism 2, each subtask's chain follows the other's: a base after the first subtask's deltas is in order.
  const sub = (subtask: number, file: string, checkpoint: number | undefined, isDelta: boolean) => ({ ...ref(file, 0, isDelta), subtask, ...(checkpoint === undefined ? { checkpoint: undefined } : { checkpoint }) })
  const byKey = (ks: string[]) => ks.map(String)
  const two: OperatorEntry = { ...op, files: [sub(0, 'b.0', 7, false), sub(0, 'd8', 8, true), sub(1, 'b.1', 7, false), sub(1, 'd9', undefined, true)] }
  const merged = operatorStates(two, (f) => files[f.file])
  assert.equal(merged.length, 1)
  assert.deepEqual(byKey(entries(merged[0] as KeyedSnapshot, 'rows').map(([k]) => k as string)).sort(), byKey(entries(operatorStates(op, (f) => files[f.file])[0] as KeyedSnapshot, 'rows').map(([k]) => k as string)).sort())
})

test('row patches: an entry patched in a delta keeps its position and gains the rows added; a patch without its entry is corrupt', () => {
  const base = new KeyedSnapshotWriter(G)
  base.add('rows', 'a', [['a1', 'a2', 'a3'], 7])
  base.add('rows', 'b', [['b1'], 1])
  const d1 = new KeyedSnapshotWriter(G)
  d1.changed('a')
  d1.patch('rows', 'a', [[[[0], 2, ['a4']]], [[[1], 8]]])
  const d2 = new KeyedSnapshotWriter(G)
  d2.changed('a')
  d2.patch('rows', 'a', [[[[0], 3, ['a5', 'a6']]], []])
  d2.changed('b')
  d2.add('rows', 'b', [['b2'], 2])
  const b = base.build(undefined)
  const m = mergeKeyed(b, [d1.build(undefined), d2.build(undefined)])
  assert.deepEqual(entries(m, 'rows'), [
    ['a', [['a1', 'a2', 'a4', 'a5', 'a6'], 8]],
    ['b', [['b2'], 2]],
  ])
  assert.deepEqual(entries(b, 'rows')[0], ['a', [['a1', 'a2', 'a3'], 7]], 'the base is not changed')
  const stray = new KeyedSnapshotWriter(G)
  stray.changed('z')
  stray.patch('rows', 'z', [[], [[[1], 0]]])
  assert.throws(() => mergeKeyed(b, [stray.build(undefined)]), /SLUICE_CHECKPOINT_CORRUPT|row patch/)
  const tooLong = new KeyedSnapshotWriter(G)
  tooLong.changed('b')
  tooLong.patch('rows', 'b', [[[[0], 5, []]], []])
  assert.throws(() => mergeKeyed(b, [tooLong.build(undefined)]), /does not fit/)
})
