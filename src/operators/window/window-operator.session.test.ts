import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { OperatorHarness, type HarnessRecord } from '../../testing/operator-harness.ts'
import { materialize } from '../../connectors/memory/collect-sink.ts'
import { WindowOperator, type WindowResult } from './window-operator.ts'
import { window } from './assigners.ts'
import { trigger } from './triggers.ts'
import { agg } from '../aggregate/functions.ts'

interface Ev {
  key: string
  ts: number
}

interface Session {
  key: string
  start: number
  end: number
  n: number
}

/**
 * Reference sessions: sort each key's timestamps and cut where two consecutive ones are more than `gap`
 * apart. Windows [t, t + gap) that overlap or touch merge (Flink's rule), so a difference of exactly
 * `gap` stays in one session.
 */
function referenceSessions(events: readonly Ev[], gap: number): Session[] {
  const byKey = new Map<string, number[]>()
  for (const e of events) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e.ts])
  const out: Session[] = []
  for (const [key, tss] of byKey) {
    tss.sort((a, b) => a - b)
    let start = tss[0]
    let last = tss[0]
    let n = 1
    for (const t of tss.slice(1)) {
      if (t - last <= gap) {
        last = t
        n++
        continue
      }
      out.push({ key, start, end: last + gap, n })
      start = last = t
      n = 1
    }
    out.push({ key, start, end: last + gap, n })
  }
  return sortSessions(out)
}

const sortSessions = (s: Session[]) => [...s].sort((a, b) => a.key.localeCompare(b.key) || a.start - b.start)
const toSession = (r: HarnessRecord): Session => {
  const w = r.value as WindowResult<string, number>
  return { key: w.key, start: w.start, end: w.end, n: w.value }
}

function sessionHarness(gap: number, allowedLateness: number): OperatorHarness {
  const assigner = window.session({ gap })
  return new OperatorHarness((ctx) => new WindowOperator({ assigner, trigger: assigner.defaultTrigger(), aggregate: agg.count(), allowedLateness, lateTag: 'late' }, ctx))
}

const event = fc.record({ key: fc.constantFrom('a', 'b', 'c'), ts: fc.integer({ min: -50, max: 300 }) }).map((e) => ({ ...e }))

/** Events in a random arrival order, cut into random batches. */
const scenario = fc
  .array(event, { minLength: 1, maxLength: 80 })
  .chain((events) =>
    fc.record({
      events: fc.constant(events),
      order: fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
      cuts: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 40 }),
      gap: fc.integer({ min: 1, max: 40 }),
      restoreAfter: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
    }),
  )

function batches<T>(xs: readonly T[], cuts: readonly number[]): T[][] {
  const out: T[][] = []
  let i = 0
  for (let c = 0; i < xs.length; c++) {
    const n = cuts[c % cuts.length]
    out.push(xs.slice(i, i + n))
    i += n
  }
  return out
}

test('sessions from records in any order and batching, fired at the end, equal the reference', () => {
  fc.assert(
    fc.property(scenario, ({ events, order, cuts, gap, restoreAfter }) => {
      const h = sessionHarness(gap, 0)
      batches(order, cuts).forEach((b, i) => {
        h.push(b.map((e) => ({ key: e.key, time: e.ts, value: e })))
        if (i === restoreAfter) h.snapshotAndRestore()
      })
      assert.deepEqual(h.take(), [], 'nothing fires before the watermark')
      h.end()
      const out = h.take()
      assert.ok(out.every((r) => r.kind === '+I'))
      assert.deepEqual(sortSessions(out.map(toSession)), referenceSessions(events, gap))
      assert.deepEqual(h.takeSide('late'), [])
    }),
    { numRuns: 500 },
  )
})

test('sessions with interleaved watermarks and a very large lateness: the materialized changelog equals the reference', () => {
  fc.assert(
    fc.property(scenario, fc.array(fc.integer({ min: -60, max: 400 }), { minLength: 1, maxLength: 40 }), ({ events, order, cuts, gap, restoreAfter }, wms) => {
      const h = sessionHarness(gap, 1e12)
      const all: HarnessRecord[] = []
      let wm = -Infinity
      batches(order, cuts).forEach((b, i) => {
        h.push(b.map((e) => ({ key: e.key, time: e.ts, value: e })))
        wm = Math.max(wm, wms[i % wms.length])
        h.watermark(wm)
        const fired = h.take()
        // Only windows the watermark has passed may be emitted as results.
        for (const r of fired) if (r.kind === '+I' || r.kind === '+U') assert.ok((r.value as WindowResult<string, number>).end - 1 <= wm)
        all.push(...fired)
        if (i === restoreAfter) h.snapshotAndRestore()
      })
      h.end()
      all.push(...h.take())
      assert.deepEqual(h.takeSide('late'), [])
      const table = materialize(all, (v) => {
        const w = v as WindowResult<string, number>
        return `${w.key}|${w.start}|${w.end}`
      })
      assert.deepEqual(sortSessions(table.map((v) => toSession({ value: v, time: 0, kind: '+I' }))), referenceSessions(events, gap))
      // Every retraction removes a row that is currently in the table.
      const live = new Map<string, unknown>()
      for (const r of all) {
        const w = r.value as WindowResult<string, number>
        const id = `${w.key}|${w.start}|${w.end}`
        if (r.kind === '+I') {
          assert.ok(!live.has(id), `+I for a row already present: ${id}`)
          live.set(id, w.value)
        } else if (r.kind === '+U') {
          live.set(id, w.value)
        } else {
          assert.deepEqual(live.get(id), w.value, `${r.kind} retracts a value that was not emitted: ${id}`)
          live.delete(id)
        }
      }
    }),
    { numRuns: 500 },
  )
})

test('session merging carries early-trigger timing over: the merged session still fires early', () => {
  const assigner = window.session({ gap: 10 })
  const h = new OperatorHarness((ctx) => new WindowOperator({ assigner, trigger: trigger.early({ every: 10 }), aggregate: agg.count(), allowedLateness: 0, lateTag: 'late' }, ctx))
  // Two sessions [0, 10) and [20, 30), each with an early firing due at processing time 10.
  h.push([
    { key: 'a', time: 0, value: 0 },
    { key: 'a', time: 20, value: 20 },
  ])
  h.advanceProcessingTime(5)
  // The record at 10 bridges them into [0, 30).
  h.push([{ key: 'a', time: 10, value: 10 }])
  h.advanceProcessingTime(5)
  assert.deepEqual(
    h.take().map((r) => [r.kind, toSession(r)]),
    [['+I', { key: 'a', start: 0, end: 30, n: 3 }]],
  )
  h.end()
  assert.deepEqual(h.take(), [])
})
