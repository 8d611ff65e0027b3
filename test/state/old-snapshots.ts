// Scripted runs of the keyed operators whose state moved into the state backend: each runs a first part,
// is snapshotted, and a second part continues from the snapshot. `make-old-snapshots.ts` stored the
// snapshots and the second parts' output as the operators wrote them before the move;
// old-snapshots.test.ts restores those files into today's operators and expects the same output.
import { agg } from '../../src/operators/aggregate/functions.ts'
import { KeyedAggregateOperator } from '../../src/operators/keyed-aggregate/keyed-aggregate-operator.ts'
import { RegularJoinOperator } from '../../src/operators/join/regular-join-operator.ts'
import { WindowOperator } from '../../src/operators/window/window-operator.ts'
import { window, type WindowAssigner } from '../../src/operators/window/assigners.ts'
import { trigger } from '../../src/operators/window/triggers.ts'
import { IntervalJoinOperator } from '../../src/operators/join/interval-join-operator.ts'
import { WindowJoinOperator } from '../../src/operators/join/window-join-operator.ts'
import type { OperatorContext, Operator } from '../../src/core/operator.ts'
import { OperatorHarness, type HarnessInput } from '../../src/testing/operator-harness.ts'
import { UPDATE_BEFORE } from '../../src/core/batch.ts'

export interface Scenario {
  name: string
  build: (ctx: OperatorContext) => Operator
  /** Runs on the harness before the snapshot. */
  first(h: OperatorHarness): void
  /** Runs on the restored harness; its output is compared. */
  second(h: OperatorHarness): void
}

const pair = (l: unknown, r: unknown) => `${String(l ?? '-')}|${String(r ?? '-')}`
const windowOf = (assigner: WindowAssigner, allowedLateness = 0, t = assigner.defaultTrigger()) => (ctx: OperatorContext) =>
  new WindowOperator({ assigner, trigger: t, aggregate: agg.fields({ n: agg.count(), s: agg.sum((x: number) => x) }), allowedLateness, lateTag: 'late' }, ctx)
const recs = (n: number, from: number, keys: number, side = 0): HarnessInput<unknown>[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k${(from + i * 7) % keys}`, value: `${side ? 'r' : 'l'}${from + i}`, time: 1000 + (from + i) * 10 }))

export const scenarios: Scenario[] = [
  {
    name: 'keyed-aggregate',
    build: (ctx) => new KeyedAggregateOperator(agg.fields({ n: agg.count(), s: agg.sum((x: number) => x) }), ctx),
    first: (h) => {
      h.push(Array.from({ length: 40 }, (_, i) => ({ key: i % 9 === 0 ? { user: i % 5 } : `u${i % 6}`, value: i, time: i })))
      h.push([{ key: 'u1', value: 1, time: 50, kind: UPDATE_BEFORE }])
    },
    second: (h) => {
      h.push(Array.from({ length: 30 }, (_, i) => ({ key: i % 4 === 0 ? { user: i % 5 } : `u${i % 8}`, value: i * 3, time: 100 + i })))
      h.end()
    },
  },
  {
    name: 'regular-join-processing-ttl',
    build: (ctx) => new RegularJoinOperator({ ttl: 5_000, type: 'left', fn: pair }, ctx),
    first: (h) => {
      h.push(recs(20, 0, 6), 0)
      h.advanceProcessingTime(2_000)
      h.push(recs(12, 100, 8, 1), 1)
    },
    second: (h) => {
      h.push(recs(6, 200, 10), 0)
      h.advanceProcessingTime(4_000)
      h.push(recs(10, 300, 10, 1), 1)
      h.advanceProcessingTime(10_000)
      h.push(recs(10, 400, 10, 1), 1)
      h.end()
    },
  },
  {
    name: 'regular-join-event-ttl',
    build: (ctx) => new RegularJoinOperator({ ttl: 300, ttlTime: 'event', type: 'full', fn: pair }, ctx),
    first: (h) => {
      h.push(recs(20, 0, 6), 0)
      h.push(recs(12, 10, 8, 1), 1)
      h.watermark(1100)
    },
    second: (h) => {
      h.push(recs(6, 30, 10), 0)
      h.watermark(1500)
      h.push(recs(10, 40, 10, 1), 1)
      h.watermark(5000)
      h.push(recs(4, 500, 10, 1), 1)
      h.end()
    },
  },
  {
    name: 'tumbling-window',
    build: (ctx) => {
      const assigner = window.tumbling({ size: '100ms' })
      return new WindowOperator({ assigner, trigger: assigner.defaultTrigger(), aggregate: agg.count(), allowedLateness: 50, lateTag: 'late' }, ctx)
    },
    first: (h) => {
      h.push(Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: i, time: 1000 + i * 9 })))
      h.watermark(1200)
    },
    second: (h) => {
      h.push(Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: i, time: 1150 + i * 9 })))
      h.watermark(1400)
      h.push([{ key: 'k1', value: 0, time: 1001 }, { key: 'k2', value: 0, time: 1390 }])
      h.end()
    },
  },
  {
    name: 'sliding-window',
    build: windowOf(window.sliding({ size: '100ms', slide: '30ms' }), 40),
    first: (h) => {
      h.push(Array.from({ length: 60 }, (_, i) => ({ key: i % 11 === 0 ? { k: i % 3 } : `k${i % 6}`, value: i, time: 1000 + i * 7 })))
      h.watermark(1250)
    },
    second: (h) => {
      h.push(Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 4}`, value: i, time: 1200 + i * 8 })))
      h.watermark(1420)
      h.push([{ key: 'k1', value: 5, time: 1230 }, { key: 'k3', value: 5, time: 1100 }])
      h.end()
    },
  },
  {
    name: 'session-window',
    build: windowOf(window.session({ gap: '50ms' }), 300),
    first: (h) => {
      h.push(Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 5}`, value: i, time: 1000 + ((i * 37) % 400) })))
      h.push([{ key: 'm', value: 1, time: 1000 }, { key: 'm', value: 2, time: 1080 }])
      h.watermark(1200)
    },
    second: (h) => {
      // Records that bridge sessions (merges that retract what fired), and late ones.
      h.push(Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 6}`, value: i, time: 1180 + ((i * 53) % 300) })))
      h.push([{ key: 'm', value: 3, time: 1040 }])
      h.watermark(1350)
      h.push([{ key: 'k2', value: 1, time: 1330 }, { key: 'k4', value: 1, time: 1000 }])
      h.watermark(1600)
      h.end()
    },
  },
  {
    name: 'early-processing-trigger-window',
    build: windowOf(window.tumbling({ size: '200ms' }), 0, trigger.early({ every: '1s' })),
    first: (h) => {
      h.push(Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 4}`, value: i, time: 1000 + i * 13 })))
      h.advanceProcessingTime(1_500)
      h.push(Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: i, time: 1300 + i * 13 })))
    },
    second: (h) => {
      h.advanceProcessingTime(1_000)
      h.watermark(1250)
      h.push(Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 5}`, value: i, time: 1390 + i * 3 })))
      h.advanceProcessingTime(1_000)
      h.end()
    },
  },
  {
    name: 'interval-join-left',
    build: (ctx) => new IntervalJoinOperator({ lower: -30, upper: 20, type: 'left', fn: pair }, ctx),
    first: (h) => {
      h.push(recs(20, 0, 6), 0)
      h.push(recs(12, 3, 8, 1), 1)
      h.watermark(1080)
    },
    second: (h) => {
      h.push(recs(10, 20, 6), 0)
      h.push(recs(10, 15, 8, 1), 1)
      h.watermark(1200)
      h.push(recs(4, 2, 8, 1), 1)
      h.end()
    },
  },
  {
    name: 'window-join-full',
    build: (ctx) => new WindowJoinOperator({ assigner: window.tumbling({ size: '50ms' }), type: 'full', fn: pair }, ctx),
    first: (h) => {
      h.push(recs(20, 0, 6), 0)
      h.push(recs(12, 3, 8, 1), 1)
      h.watermark(1100)
    },
    second: (h) => {
      h.push(recs(10, 20, 6), 0)
      h.push(recs(10, 15, 8, 1), 1)
      h.watermark(1260)
      h.push(recs(4, 2, 8, 1), 1)
      h.end()
    },
  },
]

/** The snapshot after the first part, and the restored operator's output of the second part. */
export function run(s: Scenario, restore?: (h: OperatorHarness) => void): { snapshot: unknown; output: unknown } {
  const h = new OperatorHarness(s.build, { stepId: s.name })
  s.first(h)
  h.take()
  const snapshot = h.snapshot()
  if (restore === undefined) h.snapshotAndRestore()
  else restore(h)
  s.second(h)
  return { snapshot, output: { main: h.take(), late: h.takeSide('late'), errors: h.takeErrors().length } }
}
