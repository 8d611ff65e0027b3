// A regular join and a keyed aggregate checkpointed incrementally: a base, then deltas after more input
// (rows added, retracted and expired), then a second part that continues from the merged chain.
// `make-old-deltas.ts` stored the chains in the format of their time; old-deltas.test.ts merges and restores
// them with today's code and expects the same output.
import { DELETE } from '../../src/core/batch.ts'
import type { KeyedSnapshot, Operator, OperatorContext } from '../../src/core/operator.ts'
import { agg } from '../../src/operators/aggregate/functions.ts'
import { RegularJoinOperator } from '../../src/operators/join/regular-join-operator.ts'
import { KeyedAggregateOperator } from '../../src/operators/keyed-aggregate/keyed-aggregate-operator.ts'
import { OperatorHarness, type HarnessInput } from '../../src/testing/operator-harness.ts'

export interface DeltaScenario {
  name: string
  build: (ctx: OperatorContext) => Operator
  /** Input before the base, and before each delta. */
  parts: ((h: OperatorHarness) => void)[]
  /** Input after the restore; its output is compared. */
  second(h: OperatorHarness): void
}

const pair = (l: unknown, r: unknown) => `${String(l ?? '-')}|${String(r ?? '-')}`
const recs = (n: number, from: number, keys: number, side = 0): HarnessInput<unknown>[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k${(from + i * 7) % keys}`, value: `${side ? 'r' : 'l'}${from + i}`, time: 1000 + (from + i) * 10 }))

export const deltaScenarios: DeltaScenario[] = [
  {
    name: 'regular-join-deltas',
    build: (ctx) => new RegularJoinOperator({ ttl: 5_000, type: 'full', fn: pair }, ctx),
    parts: [
      (h) => {
        h.push(recs(20, 0, 6), 0)
        h.push(recs(12, 100, 8, 1), 1)
      },
      (h) => {
        h.push(recs(8, 200, 9), 0)
        h.push([{ key: 'k0', value: 'l0', time: 1000, kind: DELETE }], 0)
        h.advanceProcessingTime(3_000)
        h.push(recs(6, 300, 7, 1), 1)
      },
      (h) => {
        h.advanceProcessingTime(2_500)
        h.push(recs(5, 400, 5), 0)
        h.push([{ key: 'k3', value: 'r303', time: 4030, kind: DELETE }], 1)
      },
    ],
    second: (h) => {
      h.push(recs(6, 500, 10), 0)
      h.push(recs(10, 600, 10, 1), 1)
      h.advanceProcessingTime(10_000)
      h.push(recs(4, 700, 10, 1), 1)
      h.end()
    },
  },
  {
    name: 'keyed-aggregate-deltas',
    build: (ctx) => new KeyedAggregateOperator(agg.fields({ n: agg.count(), s: agg.sum((x: number) => x) }), ctx),
    parts: [
      (h) => h.push(Array.from({ length: 40 }, (_, i) => ({ key: `u${i % 9}`, value: i, time: i }))),
      (h) => h.push(Array.from({ length: 10 }, (_, i) => ({ key: `u${i % 3}`, value: i, time: 50 + i }))),
      (h) => h.push([{ key: 'u1', value: 1, time: 70, kind: DELETE }, { key: 'v', value: 5, time: 71 }]),
    ],
    second: (h) => {
      h.push(Array.from({ length: 20 }, (_, i) => ({ key: `u${i % 11}`, value: i * 3, time: 100 + i })))
      h.end()
    },
  },
]

/** The base and deltas after the scenario's parts, and (when `restore` is given) the output of the second part. */
export function runDeltas(s: DeltaScenario, restore?: (h: OperatorHarness) => void): { chain: KeyedSnapshot[]; output: unknown } {
  const h = new OperatorHarness(s.build, { stepId: s.name })
  const chain: KeyedSnapshot[] = []
  s.parts.forEach((part, i) => {
    part(h)
    chain.push(structuredClone(h.operator.snapshotIncremental!(i === 0)))
  })
  h.take()
  if (restore === undefined) return { chain, output: undefined }
  restore(h)
  s.second(h)
  return { chain, output: { main: h.take(), errors: h.takeErrors().length } }
}
