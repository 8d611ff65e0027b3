import { parseDuration, type Duration } from '../core/duration.ts'
import type { Key } from '../core/key.ts'
import { userError } from '../core/errors.ts'
import type { AggregateFunction } from '../operators/aggregate/aggregate-function.ts'
import { agg } from '../operators/aggregate/functions.ts'
import { checkAssigner, type WindowAssigner } from '../operators/window/assigners.ts'
import { isBuiltinEventTimeTrigger, type Trigger } from '../operators/window/triggers.ts'
import { combinableWindow, WindowCombinerOperator } from '../operators/window/combiner.ts'
import { partialOrKey } from '../operators/aggregate/partial.ts'
import { checkCombine, combineMode, foldsWhen, type CombineOption } from './combine-option.ts'
import { WindowOperator, type LateRecord, type WindowResult } from '../operators/window/window-operator.ts'
import type { KeyedStream } from './keyed-stream.ts'
import type { Stream } from './stream.ts'

/**
 * How a window treats time: how late a record may be and still update its window, where later ones go,
 * and an optional trigger in place of the assigner's default.
 * @example stream.keyBy((c) => c.userId).window(window.session({ gap: '30m' }), { allowedLateness: '1m', late: 'late-clicks' })
 */
export interface WindowOptions<T> {
  /** When the window emits; default: the assigner's (event time at the window's end). */
  trigger?: Trigger
  /** How long after the window's end a late record still updates it (emitted as -U/+U). Default 0. */
  allowedLateness?: Duration
  /** Side output for records later than that; default 'late'. Read it with `.sideOutput('late')`. */
  late?: string
  /** @internal phantom, for inference only */
  readonly _t?: T
}

/**
 * Options of a window's `aggregate` (or `reduce`, `count`).
 * @example bids.keyBy((b) => b.auction).window(window.tumbling({ size: '10s' })).aggregate(agg.count(), { combine: true })
 */
export interface WindowAggregateOptions {
  /**
   * Pre-aggregate each batch per key and window before the keyed exchange (local-global aggregation), as a
   * keyed `aggregate`'s `combine` does: the results, late records and updates within allowed lateness are
   * those of the plain window. Event-time tumbling, sliding and session windows with the default trigger
   * only. `'auto'` (the default, unless the pipeline's `combine` says otherwise): a combiner for aggregates
   * whose merge is exact, folding at parallelism > 1 only, while keys repeat within batches; `true`: one that always folds (refused on other
   * windows; the aggregate's `merge` must be exact); `false`: none.
   */
  combine?: CombineOption
}

/**
 * A keyed stream cut into windows; finish it with `aggregate` or `reduce`.
 * @example clicks.keyBy((c) => c.page).window(window.tumbling({ size: '1m' })).count()
 */
export class WindowedStream<T, K extends Key> {
  private readonly keyed: KeyedStream<T, K>
  private readonly assigner: WindowAssigner
  private readonly options: WindowOptions<T>

  constructor(keyed: KeyedStream<T, K>, assigner: WindowAssigner, options: WindowOptions<T> = {}) {
    this.keyed = keyed
    this.assigner = assigner
    this.options = options
  }

  /**
   * Aggregates each window incrementally and emits `{ key, start, end, value }` when it fires.
   * @example clicks.keyBy(c => c.page).window(window.tumbling({ size: '1m' })).aggregate(agg.count())
   */
  aggregate<A, R>(fn: AggregateFunction<T, A, R>, aggOptions: WindowAggregateOptions = {}): Stream<WindowResult<K, R>> {
    const { assigner, options } = this
    const stream = this.keyed.stream
    const p = stream.pipeline
    // An invalid assigner is reported below with the step's id; it has no trigger to ask.
    const trigger = assigner.invalid === undefined ? (options.trigger ?? assigner.defaultTrigger()) : undefined
    const explicit = checkCombine(aggOptions.combine, `window aggregate '${fn.name}'`)
    const combinable = trigger !== undefined && combinableWindow(assigner, isBuiltinEventTimeTrigger(trigger))
    if (explicit === true && trigger !== undefined && !combinable) {
      throw userError('SLUICE_BAD_OPTION', `window aggregate '${fn.name}': combine needs an event-time window with bounds of its own (tumbling, sliding, session) and the default trigger, got a ${assigner.kind} window with a ${trigger.kind} trigger`, {
        hint: 'drop { combine: true } from this aggregate',
      })
    }
    // A pipeline-wide `combine: true` passes over windows that cannot be combined.
    const when = combinable ? combineMode(explicit, p.options.combine, fn.exactMerge === true) : 'off'
    // Local-global: a combiner on every subtask of the input, then the window step merging partials by key.
    let input: { stream: Stream<any>; key: (value: any) => unknown } = { stream, key: this.keyed.keyFn }
    let target = ''
    if (when !== 'off') {
      const node = p.addNode('combine', [stream.edge()], { aggregate: fn.name, window: assigner.describe, preAggregate: foldsWhen(when) }, { role: 'operator', keyed: false, build: (ctx) => new WindowCombinerOperator(fn, this.keyed.keyFn, assigner, target, ctx, when) })
      input = { stream: stream.derive(node), key: partialOrKey(this.keyed.keyFn) }
    }
    const node = p.addNode('window-aggregate', [input.stream.edge(input.key)], {}, { role: 'errors' })
    target = node.id
    checkAssigner(assigner, node.id)
    const allowedLateness = parseDuration(options.allowedLateness ?? 0, `step '${node.id}': allowedLateness`)
    if (assigner.time === 'processing' && allowedLateness > 0) {
      throw userError('SLUICE_BAD_OPTION', `step '${node.id}': allowedLateness applies to event-time windows only; this window uses processing time`, { step: node.id })
    }
    const lateTag = options.late ?? 'late'
    const trig = trigger ?? assigner.defaultTrigger()
    node.describe = { window: assigner.describe, trigger: trig.describe, aggregate: fn.name, allowedLatenessMs: allowedLateness, late: lateTag }
    node.impl = { role: 'operator', keyed: true, build: (ctx) => new WindowOperator({ assigner, trigger: trig, aggregate: fn, allowedLateness, lateTag }, ctx) }
    node.sideOutputs.push(lateTag)
    node.columns = { kind: 'aggregate', create: () => fn.create(), add: (a, v) => fn.add(a, v) }
    return stream.derive<WindowResult<K, R>>(node)
  }

  /**
   * Combines the records of each window pairwise; the value has the record's type.
   * @example bids.keyBy((b) => b.auction).window(window.tumbling({ size: '1m' })).reduce((a, b) => (a.price >= b.price ? a : b))
   */
  reduce(fn: (a: T, b: T) => T, options: WindowAggregateOptions = {}): Stream<WindowResult<K, T>> {
    return this.aggregate(agg.reduce(fn), options)
  }

  /**
   * Number of records per window.
   * @example clicks.keyBy((c) => c.page).window(window.tumbling({ size: '1m' })).count() // { key, start, end, value }
   */
  count(options: WindowAggregateOptions = {}): Stream<WindowResult<K, number>> {
    return this.aggregate(agg.count<T>(), options)
  }
}

export type { LateRecord, WindowResult }
