import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { OperatorHarness } from '../../testing/operator-harness.ts'
import { IntervalJoinOperator } from './interval-join-operator.ts'

const pair = (l: string | null, r: string | null) => `${l ?? '-'}|${r ?? '-'}`

function harness(type: 'inner' | 'left', lower = -2, upper = 1) {
  return new OperatorHarness((ctx) => new IntervalJoinOperator({ lower, upper, type, fn: pair as never }, ctx))
}

const rec = (v: string, time: number, key = 'a') => ({ value: v, time, key })

const heldKeys = (h: OperatorHarness) => h.snapshotEntries('buffers').length

test('interval join: a left at t meets rights in [t + lower, t + upper], both ends included, whichever comes first', () => {
  const h = harness('inner')
  h.push([rec('r7', 7), rec('r8', 8), rec('r12', 12), rec('x9', 9, 'b')], 1)
  h.push([rec('l10', 10)], 0)
  assert.deepEqual(h.take(), [{ value: 'l10|r8', time: 10, kind: '+I' }])
  h.push([rec('r11', 11), rec('r10', 10)], 1)
  assert.deepEqual(h.take(), [
    { value: 'l10|r11', time: 11, kind: '+I' },
    { value: 'l10|r10', time: 10, kind: '+I' },
  ])
  h.end()
  assert.deepEqual(h.take(), [])
  assert.equal(h.metrics.recordsOut, 3)
})

test('interval join with both bounds negative matches only earlier rights', () => {
  const h = harness('inner', -10, -5)
  h.push([rec('r0', 0), rec('r4', 4), rec('r5', 5), rec('r6', 6)], 1)
  h.push([rec('l10', 10), rec('l14', 14)], 0)
  assert.deepEqual(h.takeValues(), ['l10|r0', 'l10|r4', 'l10|r5', 'l14|r4', 'l14|r5', 'l14|r6'])
})

test('interval join frees buffered records once the watermark has passed their interval', () => {
  const h = harness('inner')
  h.push([rec('l10', 10)], 0).push([rec('r20', 20)], 1)
  h.watermark(11)
  // r11 is on time (not below the watermark) and may still meet l10.
  h.push([rec('r11', 11)], 1)
  assert.deepEqual(h.takeValues(), ['l10|r11'])
  h.watermark(12)
  // l10 is gone (12 > 10 + 1); r11 is held until the watermark passes 11 + 2; r20 until 22.
  h.watermark(13)
  assert.equal(heldKeys(h), 1)
  h.watermark(21)
  h.push([rec('l21', 21)], 0)
  assert.deepEqual(h.takeValues(), ['l21|r20'])
  h.watermark(22)
  assert.equal(heldKeys(h), 1)
  h.watermark(23)
  assert.equal(heldKeys(h), 0)
})

test('interval join sends records below the watermark to the late output', () => {
  const h = harness('left')
  h.watermark(10)
  h.push([rec('l9', 9), rec('l10', 10)], 0).push([rec('r8', 8), rec('r10', 10)], 1)
  assert.deepEqual(h.takeValues(), ['l10|r10'])
  assert.deepEqual(
    h.takeSide('late').map((r) => r.value),
    [
      { step: 'op-1', reason: 'interval-closed', time: 9, watermark: 10, record: 'l9', side: 'left' },
      { step: 'op-1', reason: 'interval-closed', time: 8, watermark: 10, record: 'r8', side: 'right' },
    ],
  )
  assert.equal(h.metrics.late, 2)
  h.end()
  assert.deepEqual(h.takeValues(), [], 'a late left is not padded with null')
})

test('left interval join emits unmatched lefts with null, at their own time, when their interval has passed', () => {
  const h = harness('left')
  h.push([rec('l10', 10), rec('l20', 20), rec('l30', 30, 'b')], 0).push([rec('r9', 9)], 1)
  assert.deepEqual(h.takeValues(), ['l10|r9'])
  h.watermark(21)
  assert.deepEqual(h.take(), [], 'l20 may still meet a right at 21')
  h.watermark(22)
  assert.deepEqual(h.take(), [{ value: 'l20|-', time: 20, kind: '+I' }])
  h.end()
  assert.deepEqual(h.take(), [{ value: 'l30|-', time: 30, kind: '+I' }])
  assert.equal(heldKeys(h), 0)
})

test('left interval join: a left that can meet nothing new is padded at once if nothing held matches it', () => {
  const h = harness('left', -10, -5)
  h.push([rec('r8', 8)], 1)
  h.watermark(10)
  // Both can only meet rights at or below 8 < 10: they are not kept.
  h.push([rec('l10', 10), rec('l13', 13)], 0)
  assert.deepEqual(h.take(), [
    { value: 'l10|-', time: 10, kind: '+I' },
    { value: 'l13|r8', time: 13, kind: '+I' },
  ])
  h.end()
  assert.deepEqual(h.take(), [])
})

function feed(h: OperatorHarness, snapshot: boolean): void {
  h.push([rec('l10', 10), rec('l11', 11, 'b')], 0).push([rec('r9', 9)], 1)
  if (snapshot) h.snapshotAndRestore()
  h.watermark(9)
  h.push([rec('r12', 12, 'b'), rec('r13', 13, 'c')], 1)
  if (snapshot) h.snapshotAndRestore()
  h.watermark(12)
  h.push([rec('l14', 14, 'c'), rec('l12', 12)], 0)
  if (snapshot) h.snapshotAndRestore()
  h.end()
}

for (const type of ['inner', 'left'] as const) {
  test(`interval join ${type}: snapshot and restore mid-stream gives the same output`, () => {
    const a = harness(type)
    feed(a, false)
    const b = harness(type)
    feed(b, true)
    const out = a.take()
    assert.ok(out.length >= 3)
    assert.deepEqual(b.take(), out)
  })
}

test('property: interval join equals a nested loop over the on-time records', () => {
  const event = fc.oneof(
    fc.record({ side: fc.constantFrom(0, 1), k: fc.constantFrom('a', 'b'), t: fc.integer({ min: 0, max: 50 }) }),
    fc.record({ wm: fc.integer({ min: 0, max: 50 }) }),
  )
  const bounds = fc.tuple(fc.integer({ min: -8, max: 8 }), fc.integer({ min: 0, max: 8 })).map(([lo, w]) => [lo, lo + w] as const)
  fc.assert(
    fc.property(fc.array(event, { maxLength: 40 }), bounds, fc.constantFrom<'inner' | 'left'>('inner', 'left'), fc.boolean(), (events, [lower, upper], type, snap) => {
      const h = harness(type, lower, upper)
      const onTime: { side: number; k: string; t: number; v: string }[] = []
      let wm = -Infinity
      events.forEach((e, i) => {
        if ('wm' in e) {
          h.watermark(e.wm)
          wm = Math.max(wm, e.wm)
          if (snap) h.snapshotAndRestore()
          return
        }
        const v = `${e.side}:${i}`
        h.push([rec(v, e.t, e.k)], e.side)
        if (e.t >= wm) onTime.push({ ...e, v })
      })
      h.end()
      const expected: string[] = []
      for (const l of onTime) {
        if (l.side !== 0) continue
        let matched = false
        for (const r of onTime) {
          if (r.side !== 1 || r.k !== l.k || r.t < l.t + lower || r.t > l.t + upper) continue
          matched = true
          expected.push(`${l.v}|${r.v}@${Math.max(l.t, r.t)}`)
        }
        if (!matched && type === 'left') expected.push(`${l.v}|-@${l.t}`)
      }
      const got = h.take().map((r) => `${r.value}@${r.time}`)
      assert.deepEqual(got.sort(), expected.sort())
      assert.equal(heldKeys(h), 0)
    }),
  )
})
