import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { keyGroupOf, keyId, subtaskOfKeyGroup } from '../core/key.ts'
import type { KeyedRestore, KeyedSnapshot } from '../core/operator.ts'
import { KeyedSnapshotWriter, minShared, readEntries, restoreEntries } from '../operators/keyed-snapshot.ts'
import { operatorStates } from './incremental.ts'
import { detachKeyedRestore, isEncodedKeyedRestore, openKeyedRestore, planKeyedRestores } from './keyed-restore.ts'
import type { OperatorEntry, StateFileRef } from './manifest.ts'
import { redistributeKeyed } from './redistribute.ts'
import { decodeState, encodeState } from './state-file.ts'

const G = 16

/** The files of one subtask's snapshot (small parts, so that a snapshot takes several files). */
function encode(snap: KeyedSnapshot): Uint8Array[] {
  return encodeState(snap, { partBytes: 64 }).map((p) => Uint8Array.from(p))
}

/** A snapshot of the keys `subtask` of `parallelism` owns: rows, a timer each, and the watermark it had. */
function snapshotOf(rows: Map<unknown, [unknown, number]>, subtask: number, parallelism: number, only?: Set<unknown>, wm?: number): KeyedSnapshot {
  const w = new KeyedSnapshotWriter(G)
  for (const [id, [k, v]] of rows) {
    if (subtaskOfKeyGroup(keyGroupOf(k, G), parallelism, G) !== subtask) continue
    if (only !== undefined && !only.has(id)) continue
    w.add('rows', k, v)
    w.add('timers', k, v * 10)
  }
  return w.build(wm === undefined ? undefined : { wm })
}

function changedOf(rows: Map<unknown, [unknown, number]>, changed: Map<unknown, unknown>, subtask: number, parallelism: number, wm: number): KeyedSnapshot {
  const w = new KeyedSnapshotWriter(G)
  for (const [id, k] of changed) {
    if (subtaskOfKeyGroup(keyGroupOf(k, G), parallelism, G) !== subtask) continue
    w.changed(k)
    const row = rows.get(id)
    if (row !== undefined) {
      w.add('rows', k, row[1])
      w.add('timers', k, row[1] * 10)
    }
  }
  return w.build({ wm })
}

/** A manifest entry and its files from the chains of `old` subtasks (each a list of layers, base first). */
function entryOf(chains: KeyedSnapshot[][]): { op: OperatorEntry; file: (f: StateFileRef) => Uint8Array } {
  const bytes = new Map<string, Uint8Array>()
  const files: StateFileRef[] = []
  chains.forEach((layers, subtask) =>
    layers.forEach((snap, i) =>
      encode(snap).forEach((data, part) => {
        const name = `s${subtask}-l${i}-p${part}`
        bytes.set(name, data)
        files.push({ subtask, file: name, bytes: data.byteLength, sha256: '', checkpoint: 10 + i, ...(i > 0 ? { delta: true } : {}) })
      }),
    ),
  )
  return { op: { step: 'join', kind: 'k', keyed: true, descriptor: {}, files }, file: (f) => bytes.get(f.file)! }
}

const pairs = (r: KeyedRestore, list: string) => readEntries(r, list).map(([, k, d]) => [k, d])
const sorted = (xs: unknown[][]) => xs.map((x) => JSON.stringify(x)).sort()

test('law: restoring undecoded key groups gives each subtask what decoding, merging and redistributing every file gives', () => {
  const key = fc.constantFrom<unknown>('a', 'b', 'c', 'd', 'e', 'f', 'g', 1, 2, 3, 4, ['t', 1], ['t', 2])
  const op = fc.oneof(fc.record({ set: key, v: fc.integer({ min: 0, max: 99 }) }), fc.record({ del: key }), fc.constant({ cut: true as const }))
  fc.assert(
    fc.property(fc.array(op, { maxLength: 50 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), (ops, before, after, incremental, fromDisk) => {
      const rows = new Map<unknown, [unknown, number]>()
      const chains: KeyedSnapshot[][] = Array.from({ length: before }, () => [])
      let changed = new Map<unknown, unknown>()
      let cuts = 0
      const cut = () => {
        cuts++
        for (let s = 0; s < before; s++) {
          const chain = chains[s]
          if (!incremental || chain.length === 0) chains[s] = [snapshotOf(rows, s, before, undefined, cuts)]
          else chain.push(changedOf(rows, changed, s, before, cuts))
        }
        changed = new Map()
      }
      cut()
      for (const o of ops) {
        if ('cut' in o) cut()
        else if ('set' in o) {
          rows.set(keyId(o.set), [o.set, o.v])
          changed.set(keyId(o.set), o.set)
        } else {
          rows.delete(keyId(o.del))
          changed.set(keyId(o.del), o.del)
        }
      }
      cut()
      const { op: entry, file } = entryOf(chains)
      const eager = redistributeKeyed(operatorStates(entry, (f) => decodeState(file(f))) as KeyedSnapshot[], after, G)
      const planned = planKeyedRestores(entry, fromDisk ? { file, range: (f, at, n) => file(f as StateFileRef).slice(at, at + n) } : { file }, after, G)
      assert.ok(planned !== undefined)
      for (let t = 0; t < after; t++) {
        assert.ok(isEncodedKeyedRestore(planned[t]))
        for (const r of [openKeyedRestore(planned[t]), openKeyedRestore(detachKeyedRestore(planned[t]))]) {
          for (const list of ['rows', 'timers']) assert.deepEqual(pairs(r, list), pairs(eager[t], list), `subtask ${t}, ${list}, in order`)
          assert.deepEqual(r.shared, eager[t].shared)
          // One group at a time (the durable backend's way): the same entries, in some order.
          const seen: unknown[][] = []
          restoreEntries(r, { rows: (k, d: number) => seen.push([k, d]) }, false)
          assert.deepEqual(sorted(seen), sorted(pairs(eager[t], 'rows')))
        }
      }
    }),
    { numRuns: 150 },
  )
})

test('each key group is decoded when it is read, and not kept', () => {
  const rows = new Map<unknown, [unknown, number]>(['a', 'b', 'c'].map((k, i) => [k, [k, i]]))
  const { op, file } = entryOf([[snapshotOf(rows, 0, 1)]])
  const r = openKeyedRestore(planKeyedRestores(op, { file }, 1, G)![0])
  const g = keyGroupOf('a', G)
  const first = r.groups[g]
  assert.notEqual(r.groups[g], first, 'a second read decodes again')
  assert.deepEqual(r.groups[g], first)
})

test('what a decoded restore refuses, the undecoded one refuses too', () => {
  const rows = new Map<unknown, [unknown, number]>(['a', 'b', 'c', 'd'].map((k, i) => [k, [k, i]]))
  const { op, file } = entryOf([[snapshotOf(rows, 0, 1)], [snapshotOf(rows, 0, 1)]])
  assert.throws(() => planKeyedRestores(op, { file }, 1, G), /key group \d+ is in the snapshots of both subtask \d+ and subtask \d+/)
  assert.throws(() => planKeyedRestores(op, { file }, 1, 32), (e: Error & { code?: string }) => e.code === 'SLUICE_STATE_KEY_GROUPS')
  const chain = entryOf([[snapshotOf(rows, 0, 1), changedOf(rows, new Map([['a', 'a']]), 0, 1, 1)]])
  const deltasOnly = { ...chain.op, files: chain.op.files.filter((f) => f.delta === true) }
  assert.throws(() => planKeyedRestores(deltasOnly, { file: chain.file }, 1, G), /deltas without a base/)
  const misordered = { ...chain.op, files: [...chain.op.files.filter((f) => f.delta === true), ...chain.op.files.filter((f) => f.delta !== true)] }
  assert.throws(() => planKeyedRestores(misordered, { file: chain.file }, 1, G), /listed after a delta/)
})

test('state not split by key group, or files of the older layout, are left to the decoded restore', () => {
  const plain = Uint8Array.from(encodeState({ n: 1 })[0])
  const op: OperatorEntry = { step: 's', kind: 'k', keyed: true, descriptor: {}, files: [{ subtask: 0, file: 'f', bytes: plain.byteLength, sha256: '' }] }
  assert.equal(planKeyedRestores(op, { file: () => plain }, 1, G), undefined)
})

test("after deltas, every saved subtask's newest operator-wide data is restored, so a watermark is their lowest", () => {
  const rows = new Map<unknown, [unknown, number]>(['a', 'b', 'c', 'd', 'e', 'f'].map((k, i) => [k, [k, i]]))
  const changed = new Map<unknown, unknown>([['a', 'a']])
  // Subtask 0 saw watermark 5 at the last checkpoint, subtask 1 watermark 9 (its files come last).
  const { op, file } = entryOf([
    [snapshotOf(rows, 0, 2, undefined, 1), changedOf(rows, changed, 0, 2, 5)],
    [snapshotOf(rows, 1, 2, undefined, 1), changedOf(rows, changed, 1, 2, 9)],
  ])
  for (const after of [1, 2]) {
    const decoded = redistributeKeyed(operatorStates(op, (f) => decodeState(file(f))) as KeyedSnapshot[], after, G)
    const undecoded = planKeyedRestores(op, { file }, after, G)!.map(openKeyedRestore)
    for (const r of [...decoded, ...undecoded]) assert.deepEqual(minShared(r, 'wm'), 5, `at parallelism ${after}`)
  }
})
