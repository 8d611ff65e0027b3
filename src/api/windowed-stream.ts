import { parseDuration, type Duration } from '../core/duration.ts'
import type { Key } from '../core/key.ts'
import { userError } from '../core/errors.ts'
import type { AggregateFunction } from '../operators/aggregate/aggregate-function.ts'
import { agg } from '../operators/aggregate/functions.ts'
import { checkAssigner, type WindowAssigner } from '../operators/window/assigners.ts'
import type { Trigger } from '../operators/window/triggers.ts'
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

/** A keyed stream cut into windows; finish it with `aggregate` or `reduce`. */
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
  aggregate<A, R>(fn: AggregateFunction<T, A, R>): Stream<WindowResult<K, R>> {
    const { assigner, options } = this
    const stream = this.keyed.stream
    const p = stream.pipeline
    const node = p.addNode('window-aggregate', [stream.edge(this.keyed.keyFn)], {}, { role: 'errors' })
    checkAssigner(assigner, node.id)
    const allowedLateness = parseDuration(options.allowedLateness ?? 0, `step '${node.id}': allowedLateness`)
    if (assigner.time === 'processing' && allowedLateness > 0) {
      throw userError('SLUICE_BAD_OPTION', `step '${node.id}': allowedLateness applies to event-time windows only; this window uses processing time`, { step: node.id })
    }
    const trigger = options.trigger ?? assigner.defaultTrigger()
    const lateTag = options.late ?? 'late'
    node.describe = { window: assigner.describe, trigger: trigger.describe, aggregate: fn.name, allowedLatenessMs: allowedLateness, late: lateTag }
    node.impl = { role: 'operator', keyed: true, build: (ctx) => new WindowOperator({ assigner, trigger, aggregate: fn, allowedLateness, lateTag }, ctx) }
    node.sideOutputs.push(lateTag)
    node.columns = { kind: 'aggregate', create: () => fn.create(), add: (a, v) => fn.add(a, v) }
    return stream.derive<WindowResult<K, R>>(node)
  }

  /** Combines the records of each window pairwise; the value has the record's type. */
  reduce(fn: (a: T, b: T) => T): Stream<WindowResult<K, T>> {
    return this.aggregate(agg.reduce(fn))
  }

  /** Number of records per window. */
  count(): Stream<WindowResult<K, number>> {
    return this.aggregate(agg.count<T>())
  }
}

export type { LateRecord, WindowResult }
