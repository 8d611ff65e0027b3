import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { SluiceError } from '../../core/errors.ts'
import { OperatorHarness } from '../../testing/operator-harness.ts'
import { window, type WindowAssigner } from '../window/assigners.ts'
import type { JoinType } from './join-types.ts'
import { WindowJoinOperator } from './window-join-operator.ts'

interface Rec {
  k: string
  v: string
}

const pair = (l: Rec | null, r: Rec | null) => `${l?.v ?? '-'}|${r?.v ?? '-'}`

function harness(type: JoinType, assigner: WindowAssigner = window.tumbling({ size: 10 }), onError?: 'error-output') {
  return new OperatorHarness((ctx) => new WindowJoinOperator({ assigner, type, fn: pair as never }, ctx), { onError })
}

const rec = (k: string, v: string, time: number) => ({ value: { k, v }, time, key: k })

/** Left a1@1, a2@5, b1@2, c1@12; right a3@3, d1@4, c2@15. Windows [0,10) and [10,20). */
function feed(h: OperatorHarness, snapshot: boolean): void {
  h.push([rec('a', 'a1', 1), rec('b', 'b1', 2)], 0)
  h.push([rec('a', 'a3', 3), rec('d', 'd1', 4)], 1)
  if (snapshot) h.snapshotAndRestore()
  h.push([rec('a', 'a2', 5), rec('c', 'c1', 12)], 0)
  h.watermark(9)
  if (snapshot) h.snapshotAndRestore()
  h.push([rec('c', 'c2', 15)], 1)
  h.end()
}

const sorted = (xs: unknown[]) => [...xs].map(String).sort()

for (const [type, expected] of [
  ['inner', ['a1|a3', 'a2|a3', 'c1|c2']],
  ['left', ['a1|a3', 'a2|a3', 'b1|-', 'c1|c2']],
  ['right', ['-|d1', 'a1|a3', 'a2|a3', 'c1|c2']],
  ['full', ['-|d1', 'a1|a3', 'a2|a3', 'b1|-', 'c1|c2']],
] as [JoinType, string[]][]) {
  test(`window join ${type}: pairs of each key and window, at the window's last instant`, () => {
    const h = harness(type)
    feed(h, false)
    const out = h.take()
    assert.deepEqual(sorted(out.map((r) => r.value)), expected)
    for (const r of out) assert.equal(r.time, String(r.value).startsWith('c') ? 19 : 9)
    assert.ok(out.every((r) => r.kind === '+I'))
    assert.equal(h.metrics.recordsOut, expected.length)
  })

  test(`window join ${type}: snapshot and restore mid-stream gives the same output`, () => {
    const a = harness(type)
    feed(a, false)
    const b = harness(type)
    feed(b, true)
    assert.deepEqual(b.take(), a.take())
  })
}

test('window join fires the first window at its end, not before', () => {
  const h = harness('inner')
  h.push([rec('a', 'l', 1)], 0).push([rec('a', 'r', 2)], 1)
  h.watermark(8)
  assert.deepEqual(h.take(), [])
  h.watermark(9)
  assert.deepEqual(h.take(), [{ value: 'l|r', time: 9, kind: '+I' }])
  h.end()
  assert.deepEqual(h.take(), [], 'window state is freed after firing')
})

test('window join sends records of closed windows to the late output', () => {
  const h = harness('full')
  h.push([rec('a', 'l1', 1)], 0)
  h.watermark(9)
  assert.deepEqual(h.takeValues(), ['l1|-'])
  h.push([rec('a', 'l2', 4)], 0).push([rec('a', 'r1', 9)], 1).push([rec('a', 'r2', 10)], 1)
  const late = h.takeSide('late')
  assert.deepEqual(
    late.map((r) => r.value),
    [
      { step: 'op-1', reason: 'window-closed', time: 4, watermark: 9, record: { k: 'a', v: 'l2' }, side: 'left' },
      { step: 'op-1', reason: 'window-closed', time: 9, watermark: 9, record: { k: 'a', v: 'r1' }, side: 'right' },
    ],
  )
  assert.equal(h.metrics.late, 2)
  h.end()
  assert.deepEqual(h.takeValues(), ['-|r2'])
})

test('window join over sliding windows: a record joins in every window it belongs to; late only when all are closed', () => {
  const h = harness('inner', window.sliding({ size: 10, slide: 5 }))
  h.push([rec('a', 'l', 7)], 0).push([rec('a', 'r', 8)], 1)
  h.watermark(9)
  assert.deepEqual(h.take(), [{ value: 'l|r', time: 9, kind: '+I' }])
  // 12 falls in [5,15) and [10,20); [5,15) is still open.
  h.push([rec('a', 'r2', 12)], 1)
  assert.deepEqual(h.takeSide('late'), [])
  h.watermark(14)
  assert.deepEqual(h.take(), [
    { value: 'l|r', time: 14, kind: '+I' },
    { value: 'l|r2', time: 14, kind: '+I' },
  ])
  h.push([rec('a', 'l2', 3)], 0)
  assert.equal(h.takeSide('late').length, 1)
  h.end()
  assert.deepEqual(h.takeValues(), [])
})

test('window join over a global window fires at the end of input, at the latest record time', () => {
  const h = harness('left', window.global())
  h.push([rec('a', 'l1', 3), rec('b', 'l2', 40)], 0).push([rec('a', 'r1', 7)], 1)
  h.watermark(1000)
  assert.deepEqual(h.take(), [])
  h.end()
  assert.deepEqual(h.take(), [
    { value: 'l1|r1', time: 7, kind: '+I' },
    { value: 'l2|-', time: 40, kind: '+I' },
  ])
})

test('window join over processing-time windows fires by the clock, and what is open at finish', () => {
  const h = harness('inner', window.tumbling({ size: 10, time: 'processing' }))
  h.clock.set(100)
  h.push([rec('a', 'l1', 0)], 0).push([rec('a', 'r1', 0)], 1)
  h.advanceProcessingTime(5)
  h.push([rec('a', 'l2', 0)], 0)
  h.watermark(1_000_000)
  assert.deepEqual(h.take(), [], 'event time does not fire processing-time windows')
  h.snapshotAndRestore()
  h.advanceProcessingTime(5)
  assert.deepEqual(h.take(), [
    { value: 'l1|r1', time: 109, kind: '+I' },
    { value: 'l2|r1', time: 109, kind: '+I' },
  ])
  h.push([rec('a', 'l3', 0)], 0).push([rec('a', 'r3', 0)], 1)
  assert.deepEqual(h.takeSide('late'), [])
  h.end()
  assert.deepEqual(h.take(), [{ value: 'l3|r3', time: 119, kind: '+I' }])
})

test('window join rejects session and count windows', () => {
  for (const assigner of [window.session({ gap: 10 }), window.count(3)]) {
    assert.throws(
      () => harness('inner', assigner),
      (e) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION' && e.step === 'op-1' && e.message.includes(`'op-1'`),
    )
  }
})

test('a failing join function is reported and the other pairs still come out', () => {
  const h = new OperatorHarness(
    (ctx) =>
      new WindowJoinOperator(
        {
          assigner: window.tumbling({ size: 10 }),
          type: 'inner',
          fn: ((l: Rec, r: Rec) => {
            if (l.v === 'bad') throw new Error('boom')
            return pair(l, r)
          }) as never,
        },
        ctx,
      ),
    { onError: 'error-output' },
  )
  h.push([rec('a', 'bad', 1), rec('a', 'ok', 2)], 0).push([rec('a', 'r', 3)], 1)
  h.end()
  assert.deepEqual(h.takeValues(), ['ok|r'])
  const errors = h.takeErrors()
  assert.equal(errors.length, 1)
  assert.equal(errors[0].error, 'boom')
  assert.equal(h.metrics.errors, 1)
})

test('property: window join equals a per-window nested loop over the on-time records', () => {
  const event = fc.oneof(
    fc.record({ side: fc.constantFrom(0, 1), k: fc.constantFrom('a', 'b', 'c'), t: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ wm: fc.integer({ min: 0, max: 60 }) }),
  )
  fc.assert(
    fc.property(fc.array(event, { maxLength: 40 }), fc.constantFrom<JoinType>('inner', 'left', 'right', 'full'), fc.boolean(), (events, type, snap) => {
      const h = harness(type)
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
        h.push([rec(e.k, v, e.t)], e.side)
        if (Math.floor(e.t / 10) * 10 + 9 > wm) onTime.push({ ...e, v })
      })
      h.end()
      const expected: string[] = []
      const groups = new Map<string, { l: string[]; r: string[]; w: number }>()
      for (const r of onTime) {
        const w = Math.floor(r.t / 10)
        const g = groups.get(`${r.k}/${w}`) ?? { l: [], r: [], w }
        groups.set(`${r.k}/${w}`, g)
        ;(r.side === 0 ? g.l : g.r).push(r.v)
      }
      for (const g of groups.values()) {
        const t = g.w * 10 + 9
        if (g.r.length === 0) {
          if (type === 'left' || type === 'full') for (const l of g.l) expected.push(`${l}|-@${t}`)
        } else if (g.l.length === 0) {
          if (type === 'right' || type === 'full') for (const r of g.r) expected.push(`-|${r}@${t}`)
        } else for (const l of g.l) for (const r of g.r) expected.push(`${l}|${r}@${t}`)
      }
      const got = h.take().map((r) => `${r.value}@${r.time}`)
      assert.deepEqual(got.sort(), expected.sort())
      assert.equal(h.metrics.late, events.filter((e) => !('wm' in e)).length - onTime.length)
    }),
  )
})

test('a firing asked to stop goes key by key: nothing is emitted until it is done, then the same pairs as without a stop', () => {
  const fire = (stop: boolean) => {
    const h = harness('full')
    h.push([rec('a', 'a1', 1), rec('b', 'b1', 2), rec('c', 'c1', 3)], 0)
    h.push([rec('a', 'a2', 4), rec('d', 'd1', 5)], 1)
    const op = h.operator as WindowJoinOperator
    if (stop) op.shouldYield = () => true
    h.watermark(9)
    let calls = 1
    if (stop) {
      assert.equal(op.pending, true, 'the firing stopped after its first key')
      assert.deepEqual(h.take(), [], 'nothing is emitted while the firing is stopped')
      while (!op.resume()) calls++
      calls++
    }
    return { pairs: h.takeValues(), calls }
  }
  const straight = fire(false)
  const stopped = fire(true)
  assert.equal(stopped.calls, 4, 'one key per call')
  assert.deepEqual(stopped.pairs, straight.pairs)
  assert.deepEqual(sorted(straight.pairs), ['-|d1', 'a1|a2', 'b1|-', 'c1|-'])
})
