import { systemClock } from '../../core/clock.ts'
import { DEFAULT_KEY_GROUPS } from '../../core/key.ts'
import { StepMetrics } from '../../core/metrics.ts'
import type { Operator, OperatorContext } from '../../core/operator.ts'
import { HeapStateBackend } from '../../state/heap/heap-backend.ts'
import { KeyedAggregateOperator } from '../../operators/keyed-aggregate/keyed-aggregate-operator.ts'
import { KeyedProcessOperator } from '../../operators/process/keyed-process-operator.ts'
import { CoProcessOperator } from '../../operators/join/co-process-operator.ts'
import { agg } from '../../operators/aggregate/functions.ts'
import { WindowOperator } from '../../operators/window/window-operator.ts'
import { window } from '../../operators/window/assigners.ts'
import { trigger } from '../../operators/window/triggers.ts'
import { WindowJoinOperator } from '../../operators/join/window-join-operator.ts'
import { IntervalJoinOperator } from '../../operators/join/interval-join-operator.ts'
import { RegularJoinOperator } from '../../operators/join/regular-join-operator.ts'

/**
 * The operators whose state the state API reads without the pipeline: built with placeholder functions, as a
 * restore needs none (an aggregate's rows and a window's slots hold their accumulators and last results, a
 * process function's states are by name, joins hold records).
 */
const readers: Record<string, (ctx: OperatorContext) => Operator> = {
  'keyed-aggregate': (ctx) => new KeyedAggregateOperator(agg.count(), ctx),
  process: (ctx) => new KeyedProcessOperator({ processElement() {} }, ctx),
  'co-process': (ctx) => new CoProcessOperator({ processElement1() {}, processElement2() {} } as never, ctx),
  'window-aggregate': (ctx) => new WindowOperator({ assigner: window.global(), trigger: trigger.never(), aggregate: agg.count(), allowedLateness: 0, lateTag: 'late' }, ctx),
  'window-join': (ctx) => new WindowJoinOperator({ assigner: window.tumbling({ size: 1 }), type: 'inner', fn: () => null }, ctx),
  'interval-join': (ctx) => new IntervalJoinOperator({ lower: 0, upper: 0, type: 'inner', fn: () => null }, ctx),
  join: (ctx) => new RegularJoinOperator({ ttl: 1, ttlTime: 'processing', type: 'inner', fn: () => null }, ctx),
}

/** Step kinds whose state the state API reads. */
export const STATE_API_KINDS: readonly string[] = Object.keys(readers)

/** Step kinds whose state the state API writes (bootstraps). */
export const BOOTSTRAP_KINDS: readonly string[] = ['keyed-aggregate', 'process', 'co-process', 'window-aggregate', 'window-join', 'interval-join', 'join']

/**
 * An operator of step `step` outside a run, on a heap backend of its own (one subtask, every key group): the
 * state API restores it from a savepoint to read its rows, or bootstraps it to write one. `build` is the
 * step's own (from the pipeline); without it, a placeholder of the step's kind.
 */
export function stateOperator(pipeline: string, step: string, kind: string, build?: (ctx: OperatorContext) => Operator): Operator | undefined {
  const make = build ?? readers[kind]
  if (make === undefined) return undefined
  const ctx: OperatorContext = {
    pipeline,
    stepId: step,
    subtask: 0,
    parallelism: 1,
    clock: systemClock,
    metrics: new StepMetrics(step, kind),
    // Nothing runs user functions here: an error is a bug in what the state API was given, and stops it.
    errors: {
      report: (_s, e) => {
        throw e
      },
      retry: (_s, e) => {
        throw e
      },
    },
    state: new HeapStateBackend({ keyGroups: DEFAULT_KEY_GROUPS }),
    currentWatermark: () => -Infinity,
    scheduleProcessingTime: () => {},
  }
  return make(ctx)
}
