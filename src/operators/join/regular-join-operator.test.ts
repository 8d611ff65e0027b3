import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, type RowKind } from '../../core/batch.ts'
import { OperatorHarness, type HarnessRecord } from '../../testing/operator-harness.ts'
import type { JoinType } from './join-types.ts'
import { RegularJoinOperator } from './regular-join-operator.ts'
import { mergeKeyed } from '../../checkpoint/incremental.ts'
import { redistributeKeyed } from '../../checkpoint/redistribute.ts'
import type { KeyedSnapshot } from '../../core/operator.ts'
import { readEntries } from '../keyed-snapshot.ts'

const pair = (l: string | null, r: string | null) => `${l ?? '-'}|${r ?? '-'}`

function harness(type: JoinType, ttl = 1_000_000) {
  return new OperatorHarness((ctx) => new RegularJoinOperator({ ttl, type, fn: pair as never }, ctx))
}

const rec = (v: string, time = 0, key = 'a', kind?: RowKind) => ({ value: v, time, key, kind })
const show = (rs: HarnessRecord[]) => rs.map((r) => `${r.kind} ${r.value}`)

test('inner join of append-only inputs: every pair of a key, in either order, as inserts', () => {
  const h = harness('inner')
  h.push([rec('l1', 1), rec('x', 1, 'b')], 0)
  assert.deepEqual(h.take(), [])
  h.push([rec('r1', 5)], 1)
  assert.deepEqual(h.take(), [{ value: 'l1|r1', time: 5, kind: '+I' }])
  h.push([rec('l2', 7)], 0)
  h.push([rec('r2', 8)], 1)
  assert.deepEqual(show(h.take()), ['+I l2|r1', '+I l1|r2', '+I l2|r2'])
  h.end()
  assert.deepEqual(h.take(), [], 'nothing is emitted or cleared at the end')
  assert.equal(h.metrics.recordsOut, 4)
})

test('left join: an unmatched left is inserted with null, then replaced by its first match', () => {
  const h = harness('left')
  h.push([rec('l1')], 0)
  assert.deepEqual(show(h.take()), ['+I l1|-'])
  h.push([rec('r1')], 1)
  assert.deepEqual(show(h.take()), ['-D l1|-', '+I l1|r1'])
  h.push([rec('r2')], 1)
  assert.deepEqual(show(h.take()), ['+I l1|r2'])
  h.push([rec('l2')], 0)
  assert.deepEqual(show(h.take()), ['+I l2|r1', '+I l2|r2'])
  h.push([rec('r3', 0, 'b')], 1)
  assert.deepEqual(show(h.take()), [], 'an unmatched right is not emitted by a left join')
})

test('right join is the mirror image', () => {
  const h = harness('right')
  h.push([rec('r1')], 1)
  assert.deepEqual(show(h.take()), ['+I -|r1'])
  h.push([rec('l1'), rec('l2')], 0)
  assert.deepEqual(show(h.take()), ['-D -|r1', '+I l1|r1', '+I l2|r1'])
  h.push([rec('l3', 0, 'b')], 0)
  assert.deepEqual(show(h.take()), [])
})

test('full join pads both sides', () => {
  const h = harness('full')
  h.push([rec('l1'), rec('lb', 0, 'b')], 0)
  h.push([rec('rc', 0, 'c'), rec('r1')], 1)
  assert.deepEqual(show(h.take()), ['+I l1|-', '+I lb|-', '+I -|rc', '-D l1|-', '+I l1|r1'])
})

test('retractions remove one equal stored row and retract its results, restoring null padding', () => {
  const h = harness('full')
  h.push([rec('l1', 1)], 0).push([rec('r1', 2)], 1)
  h.take()
  h.push([rec('r1', 3, 'a', DELETE)], 1)
  assert.deepEqual(h.take(), [
    { value: 'l1|r1', time: 3, kind: '-D' },
    { value: 'l1|-', time: 3, kind: '+I' },
  ])
  h.push([rec('l1', 4, 'a', UPDATE_BEFORE), rec('l1b', 4, 'a', UPDATE_AFTER)], 0)
  assert.deepEqual(show(h.take()), ['-D l1|-', '+I l1b|-'])
  h.push([rec('r2', 5)], 1).push([rec('r3', 5)], 1)
  assert.deepEqual(show(h.take()), ['-D l1b|-', '+I l1b|r2', '+I l1b|r3'])
  h.push([rec('l1b', 6, 'a', DELETE)], 0)
  assert.deepEqual(show(h.take()), ['-D l1b|r2', '+I -|r2', '-D l1b|r3', '+I -|r3'])
})

test('a retraction removes one copy of a duplicate row; one for a row not held is ignored', () => {
  const h = harness('inner')
  h.push([rec('l1'), rec('l1')], 0).push([rec('r1')], 1)
  assert.deepEqual(show(h.take()), ['+I l1|r1', '+I l1|r1'])
  h.push([rec('l1', 0, 'a', DELETE), rec('zz', 0, 'a', DELETE)], 0)
  assert.deepEqual(show(h.take()), ['-D l1|r1'])
  h.push([rec('r2')], 1)
  assert.deepEqual(show(h.take()), ['+I l1|r2'])
})

test('retractions compare rows by value, not identity', () => {
  const h = new OperatorHarness((ctx) => new RegularJoinOperator({ ttl: 1000, type: 'left', fn: ((l: { id: number }, r: { n: number } | null) => `${l.id}:${r?.n ?? '-'}`) as never }, ctx))
  h.push([{ value: { id: 1 }, time: 0, key: 'a' }], 0)
  h.push([{ value: { n: 7 }, time: 0, key: 'a' }], 1)
  h.push([{ value: { n: 7 }, time: 0, key: 'a', kind: DELETE }], 1)
  assert.deepEqual(show(h.take()), ['+I 1:-', '-D 1:-', '+I 1:7', '-D 1:7', '+I 1:-'])
})

test('state of a side expires ttl ms (processing time) after that side was last written, silently', () => {
  const h = harness('inner', 100)
  h.push([rec('l1')], 0)
  h.advanceProcessingTime(50)
  h.push([rec('r1')], 1)
  assert.deepEqual(show(h.take()), ['+I l1|r1'])
  h.advanceProcessingTime(60) // now 110: left (written at 0) expired, right (written at 50) lives to 150
  h.push([rec('r2')], 1) // right written again: lives to 210
  assert.deepEqual(show(h.take()), [])
  h.push([rec('l2')], 0)
  assert.deepEqual(show(h.take()), ['+I l2|r1', '+I l2|r2'])
  h.advanceProcessingTime(100) // now 210: right expired; left (written at 110) lives to 210 too
  h.push([rec('r3')], 1)
  assert.deepEqual(show(h.take()), [])
  assert.deepEqual(h.snapshotEntries('rows').length, 1)
})

test("processing-time TTL reads the injected clock only: watermarks and the machine's clock never expire state", () => {
  const h = harness('inner', 100)
  h.push([rec('l1', 0)], 0)
  h.watermark(1_000_000)
  h.push([rec('r1', 1_000_000)], 1)
  assert.deepEqual(show(h.take()), ['+I l1|r1'], 'a watermark far past the ttl expires nothing in processing time')
})

test("event-time TTL: a side lives until the watermark passes its latest record's event time plus ttl, whatever the clock does", () => {
  const h = new OperatorHarness((ctx) => new RegularJoinOperator({ ttl: 100, ttlTime: 'event', type: 'inner', fn: pair as never }, ctx))
  h.push([rec('l1', 1000), rec('l0', 950)], 0) // left lives to 1100 (an earlier record does not shorten it)
  h.advanceProcessingTime(1_000_000)
  h.push([rec('r1', 1050)], 1) // right lives to 1150
  assert.deepEqual(show(h.take()), ['+I l1|r1', '+I l0|r1'], 'processing time expires nothing in event time')
  h.watermark(1100)
  h.push([rec('r2', 1101)], 1) // left expired at 1100; right now lives to 1201
  assert.deepEqual(show(h.take()), [])
  h.push([rec('l2', 1102)], 0)
  assert.deepEqual(show(h.take()), ['+I l2|r1', '+I l2|r2'])
  h.snapshotAndRestore()
  h.watermark(1201)
  h.push([rec('l3', 1210)], 0)
  assert.deepEqual(show(h.take()), [], 'restored timers expire the right side at 1201')
})

test('outer join: a match refreshes the padded side, whose match count changed', () => {
  const h = harness('left', 100)
  h.push([rec('l1')], 0)
  h.advanceProcessingTime(90)
  h.push([rec('r1')], 1)
  h.advanceProcessingTime(20) // now 110: l1 was rewritten at 90
  h.push([rec('r2')], 1)
  assert.deepEqual(show(h.take()), ['+I l1|-', '-D l1|-', '+I l1|r1', '+I l1|r2'])
})

function feed(h: OperatorHarness, snapshot: boolean): void {
  h.push([rec('l1', 1), rec('lb', 1, 'b')], 0)
  h.advanceProcessingTime(40)
  h.push([rec('r1', 2)], 1)
  if (snapshot) h.snapshotAndRestore()
  h.advanceProcessingTime(70) // l-side of 'b' expires at 100
  h.push([rec('rb', 3, 'b'), rec('r1', 3, 'a', DELETE)], 1)
  if (snapshot) h.snapshotAndRestore()
  h.push([rec('l2', 4)], 0)
  h.advanceProcessingTime(200)
  h.push([rec('r3', 5)], 1)
  h.end()
}

for (const type of ['inner', 'left', 'right', 'full'] as const) {
  test(`regular join ${type}: snapshot and restore mid-stream gives the same output`, () => {
    const a = harness(type, 100)
    feed(a, false)
    const b = harness(type, 100)
    feed(b, true)
    const out = a.take()
    assert.ok(out.length > 0)
    assert.deepEqual(b.take(), out)
  })
}

/** Applies a changelog to a multiset of rows. */
function materialize(rs: HarnessRecord[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const r of rs) {
    const v = String(r.value)
    const d = r.kind === '+I' || r.kind === '+U' ? 1 : -1
    const n = (m.get(v) ?? 0) + d
    assert.ok(n >= 0, `retraction of a row not emitted: ${v}`)
    if (n === 0) m.delete(v)
    else m.set(v, n)
  }
  return m
}

test('property: the changelog adds up to the join of the final inputs', () => {
  // A retraction one time in four, up to 120 rows on two keys: a side grows past a page of the durable store's rows (16).
  const op = fc.record({ side: fc.constantFrom(0, 1), k: fc.constantFrom('a', 'b'), v: fc.constantFrom('x', 'y', 'z'), retract: fc.integer({ min: 0, max: 3 }).map((n) => n === 0) })
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120, size: 'max' }), fc.constantFrom<JoinType>('inner', 'left', 'right', 'full'), fc.boolean(), (ops, type, snap) => {
      const h = harness(type)
      const tables: [Map<string, string[]>, Map<string, string[]>] = [new Map(), new Map()]
      for (const o of ops) {
        const rows = tables[o.side].get(o.k) ?? []
        tables[o.side].set(o.k, rows)
        const v = `${o.side === 0 ? 'l' : 'r'}${o.v}`
        if (o.retract) {
          // Only retract what was inserted, as an updating input would.
          const at = rows.indexOf(v)
          if (at < 0) continue
          rows.splice(at, 1)
        } else rows.push(v)
        h.push([rec(v, 0, o.k, o.retract ? (o.v === 'x' ? UPDATE_BEFORE : DELETE) : INSERT)], o.side)
        if (snap) h.snapshotAndRestore()
      }
      const expected = new Map<string, number>()
      const add = (s: string) => expected.set(s, (expected.get(s) ?? 0) + 1)
      for (const k of ['a', 'b']) {
        const ls = tables[0].get(k) ?? []
        const rs = tables[1].get(k) ?? []
        for (const l of ls) for (const r of rs) add(pair(l, r))
        if (rs.length === 0 && (type === 'left' || type === 'full')) for (const l of ls) add(pair(l, null))
        if (ls.length === 0 && (type === 'right' || type === 'full')) for (const r of rs) add(pair(null, r))
      }
      assert.deepEqual(materialize(h.take()), expected)
    }),
  )
})

test('durable store: a key with up to a page of rows a side is one entry (its description holds them); more rows take pages', () => {
  const h = new OperatorHarness((ctx) => new RegularJoinOperator({ ttl: 1_000_000, type: 'inner', fn: pair as never }, ctx), { state: 'durable' })
  h.push([rec('r1', 0, 'a')], 1)
  h.push(Array.from({ length: 16 }, (_, i) => rec(`l${i}`, 0, 'a')), 0)
  assert.equal(h.take().length, 16)
  const sizes = () => h.state.sizes()
  assert.deepEqual([sizes()['value:regular-join'], sizes()['value:regular-join-pages']], [1, 0])
  h.push(Array.from({ length: 20 }, (_, i) => rec(`m${i}`, 0, 'a')), 0)
  assert.equal(h.take().length, 20)
  assert.deepEqual([sizes()['value:regular-join'], sizes()['value:regular-join-pages']], [1, 2], 'rows 17 to 36 of the left side: two pages')
  h.snapshotAndRestore()
  h.push([rec('r2', 0, 'a')], 1)
  assert.equal(h.take().length, 36, 'the restored key meets the new right row with its 36 left rows')
  h.close()
})

test('snapshots of the earlier row layouts ([value, matches] and { value, matches }) still restore', () => {
  for (const row of [['l1', 0], { value: 'l1', matches: 0 }]) {
    const groups: Record<number, unknown> = {}
    const h = harness('inner')
    h.push([rec('x', 0, 'a')], 0)
    const snap = h.snapshot() as { groups: Record<number, { rows: { s: number[]; k: unknown[]; d: unknown[] } }> }
    for (const [g, data] of Object.entries(snap.groups)) {
      // A snapshot read from the durable store lists every key group, most of them empty.
      if (data.rows !== undefined) groups[Number(g)] = { ...data, rows: { ...data.rows, d: [[[[row], 1e15, -1], [[], 0, -1]]] } }
    }
    h.restoreFrom({ keyGroups: 128, groups, shared: [undefined] })
    h.push([rec('r1', 5)], 1)
    assert.deepEqual(show(h.take()), ['+I l1|r1'])
  }
})

test('row-level deltas: merged into their base they give the full snapshot; a delta holds the rows added, not the key', () => {
  type Op = { t: 'add'; side: number; key: number; v: number } | { t: 'del'; side: number; key: number; v: number } | { t: 'time'; ms: number } | { t: 'delta' }
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant('add' as const), side: fc.integer({ min: 0, max: 1 }), key: fc.integer({ min: 0, max: 5 }), v: fc.integer({ min: 0, max: 9 }) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), side: fc.integer({ min: 0, max: 1 }), key: fc.integer({ min: 0, max: 5 }), v: fc.integer({ min: 0, max: 9 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('time' as const), ms: fc.integer({ min: 100, max: 900 }) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('delta' as const) }) },
  )
  const types: JoinType[] = ['inner', 'left', 'full']
  fc.assert(
    // One key and a long TTL too: its sides grow past a page of the durable store's rows (16).
    fc.property(fc.constantFrom(...types), fc.constantFrom(1, 6), fc.constantFrom(1_000, 1_000_000), fc.array(op, { maxLength: 100, size: 'max' }), (type, keys, ttl, ops) => {
      const make = () => new OperatorHarness((ctx) => new RegularJoinOperator({ ttl, type, fn: pair as never }, ctx))
      const inc = make()
      const ref = make()
      const chain = [structuredClone(inc.operator.snapshotIncremental!(true))]
      const rows = (s: unknown) => new Map(readEntries(redistributeKeyed([s as KeyedSnapshot], 1)[0], 'rows').map(([, k, d]) => [k, JSON.stringify(d)]))
      for (const o of [...ops, { t: 'delta' } as Op]) {
        for (const h of [inc, ref]) {
          if (o.t === 'add' || o.t === 'del') h.push([rec(`${o.side}:${o.v}`, 0, `k${o.key % keys}`, o.t === 'del' ? DELETE : INSERT)], o.side)
          else if (o.t === 'time') h.advanceProcessingTime(o.ms)
        }
        if (o.t !== 'delta') continue
        chain.push(structuredClone(inc.operator.snapshotIncremental!(false)))
        assert.deepEqual(rows(mergeKeyed(chain[0], chain.slice(1))), rows(ref.snapshot()))
      }
    }),
    { numRuns: 300 },
  )
  // 40 rows on one key, then one more: the delta holds that row (in a patch), not the 41.
  const h = harness('inner')
  h.push([rec('r', 0, 'a')], 1)
  h.push(Array.from({ length: 40 }, (_, i) => rec(`l${i}`, 0, 'a')), 0)
  h.operator.snapshotIncremental!(true)
  h.push([rec('l40', 0, 'a')], 0)
  const d = h.operator.snapshotIncremental!(false)
  const text = JSON.stringify(d)
  assert.ok(text.includes('"l40"') && !text.includes('"l39"'), text)
})
