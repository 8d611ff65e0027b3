import { parseDuration, type Duration } from '../core/duration.ts'
import { userError } from '../core/errors.ts'
import type { Key } from '../core/key.ts'
import type { AggregateFunction } from '../operators/aggregate/aggregate-function.ts'
import { agg } from '../operators/aggregate/functions.ts'
import { KeyedAggregateOperator, type KeyedResult } from '../operators/keyed-aggregate/keyed-aggregate-operator.ts'
import { CombinerOperator } from '../operators/aggregate/combiner.ts'
import { partialOrKey } from '../operators/aggregate/partial.ts'
import { checkCombine, combineMode, foldsWhen, type CombineOption } from './combine-option.ts'
import { saltedKey, saltedMerge, saltedPartial, type Salted } from '../operators/aggregate/salted.ts'
import { KeyedProcessOperator } from '../operators/process/keyed-process-operator.ts'
import type { KeyedProcessFunction } from '../operators/process/process-function.ts'
import { checkAssigner, type WindowAssigner } from '../operators/window/assigners.ts'
import type { JoinType, KeyedCoProcessFunction } from '../operators/join/join-types.ts'
import type { StepColumns } from '../plan/graph.ts'
import { CoProcessOperator } from '../operators/join/co-process-operator.ts'
import { IntervalJoinOperator } from '../operators/join/interval-join-operator.ts'
import { RegularJoinOperator, type JoinTtlTime } from '../operators/join/regular-join-operator.ts'
import { WindowJoinOperator, checkJoinAssigner } from '../operators/join/window-join-operator.ts'
import type { OperatorContext, Operator } from '../core/operator.ts'
import type { Stream } from './stream.ts'
import { WindowedStream, type WindowOptions } from './windowed-stream.ts'

type Nullable<X, When extends boolean> = When extends true ? X | null : X
type LeftNull<J extends JoinType> = J extends 'right' | 'full' ? true : false
type RightNull<J extends JoinType> = J extends 'left' | 'full' ? true : false
export type JoinFunction<L, R, O, J extends JoinType> = (left: Nullable<L, LeftNull<J>>, right: Nullable<R, RightNull<J>>) => O

/**
 * Options of a keyed `aggregate` (or `reduce`).
 * @example bids.keyBy((b) => b.auction).aggregate(agg.count(), { combine: true, ttl: '1d' })
 */
export interface AggregateOptions {
  /**
   * Forget a key's row once `ttl` passed without a record for it: what was emitted stays as it is, and a later
   * record of the key starts a new row (+I). Default: rows are kept for ever (state that only grows).
   */
  ttl?: Duration
  /**
   * The time `ttl` is counted in: 'processing' (default, the run's clock) or 'event' (the step's watermark: a
   * row expires once the watermark passed its last update's watermark plus `ttl`, the same in a replay).
   */
  ttlTime?: TtlTime
  /**
   * Pre-aggregate each batch per key before the keyed exchange (local-global aggregation): a hot key crosses
   * the exchange once per batch as a partial accumulator, merged by the subtask that owns it. The results are
   * those of the plain aggregate. `'auto'` (the default, unless the pipeline's `combine` says otherwise) adds a
   * `combine` step in front of aggregates whose merge is exact (`exactMerge`: every `agg.*` but `reduce`) that
   * folds records at parallelism > 1 while keys repeat within batches and hands them on untouched otherwise (and
   * at parallelism 1), so a checkpoint restores at
   * either; `true` adds one that always folds (the aggregate's `merge` must be exact); `false` adds none.
   */
  combine?: CombineOption
  /**
   * Spread each key over `salt` sub-keys (records take them in turn) aggregated by a first keyed step, whose
   * partial accumulators a second keyed step merges per key: a hot key's work is shared by up to `salt`
   * subtasks. For append-only input and aggregates whose result does not depend on the order of records
   * (count, sum, min, max, avg, countDistinct and `fields` of them); the table is that of the plain aggregate.
   * Adds a `map` step and a second `keyed-aggregate`. Default: no salting.
   * @example bids.keyBy((b) => b.auction).aggregate(agg.countDistinct((b) => b.bidder), { salt: 4 })
   */
  salt?: number
}

const joinTypes: readonly JoinType[] = ['inner', 'left', 'right', 'full']

/**
 * The time a step's `ttl` is counted in (see StateTtl.time).
 * @example orders.keyBy((o) => o.customer).aggregate(agg.count(), { ttl: '30d', ttlTime: 'event' })
 */
export type TtlTime = 'processing' | 'event'

function checkTtlTime(t: unknown, step: string): TtlTime {
  if (t === undefined || t === 'processing' || t === 'event') return t ?? 'processing'
  throw userError('SLUICE_BAD_OPTION', `${step}: ttlTime must be 'processing' or 'event', got '${String(t)}'`)
}

function aggregateTtl(o: AggregateOptions): { ttl?: Duration; ttlTime?: TtlTime } {
  const ttlTime = checkTtlTime(o.ttlTime, 'aggregate')
  if (o.ttl === undefined) return {}
  parseDuration(o.ttl, 'aggregate ttl', { allowZero: false })
  return { ttl: o.ttl, ttlTime }
}

/**
 * A stream partitioned by key `K`: stateful steps see one key at a time.
 * @example const byUser: KeyedStream<Click, string> = clicks.keyBy((c) => c.userId)
 */
export class KeyedStream<T, K extends Key> {
  /** @internal */
  /**
   * The stream before `keyBy`.
   * @example clicks.keyBy((c) => c.page).stream // clicks
   */
  readonly stream: Stream<T>
  /** @internal */
  /**
   * The key selector given to `keyBy`.
   * @example
   * const byPage = clicks.keyBy((c) => c.page)
   * byPage.stream.map(byPage.keyFn) // the page of each click
   */
  readonly keyFn: (value: T) => K

  constructor(stream: Stream<T>, keyFn: (value: T) => K) {
    this.stream = stream
    this.keyFn = keyFn
  }

  private keyedNode<O>(kind: string, inputs: KeyedStream<any, any>[], describe: (id: string) => Record<string, unknown>, build: (ctx: OperatorContext, id: string) => Operator, sideOutputs: string[] = [], columns?: StepColumns): Stream<O> {
    const p = this.stream.pipeline
    for (const other of inputs) {
      if (other.stream.pipeline !== p) throw userError('SLUICE_BAD_ARGUMENT', `${kind}: both inputs must belong to pipeline '${p.name}'`)
    }
    const node = p.addNode(kind, [this, ...inputs].map((k) => k.stream.edge(k.keyFn)), {}, { role: 'errors' })
    node.describe = describe(node.id)
    node.impl = { role: 'operator', keyed: true, build: (ctx) => build(ctx, node.id) }
    node.sideOutputs.push(...sideOutputs)
    if (columns !== undefined) node.columns = columns
    return this.stream.derive<O>(node)
  }

  /** Cuts the keyed stream into windows. @example .window(window.session({ gap: '30m' }), { allowedLateness: '1m' }) */
  window(assigner: WindowAssigner, options?: WindowOptions<T>): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this, assigner, options)
  }

  /**
   * A continuously updating table `{ key, value }` per key, emitted as a changelog (+I, then -U/+U per change).
   * An updating input is retracted from the aggregate (the aggregate must support `retract`).
   * @example orders.keyBy((o) => o.country).aggregate(agg.sum((o: Order) => o.amount)) // { key, value } per country
   */
  aggregate<A, R>(fn: AggregateFunction<T, A, R>, options: AggregateOptions = {}): Stream<KeyedResult<K, R>> {
    if (options.salt !== undefined) return this.salted(fn, options.salt, options.combine)
    const columns: StepColumns = { kind: 'aggregate', create: () => fn.create(), add: (a, v) => fn.add(a, v) }
    // Not described: a TTL added to (or changed in) a running job keeps its state compatible.
    const ttl = aggregateTtl(options)
    const p = this.stream.pipeline
    const when = combineMode(checkCombine(options.combine, `aggregate '${fn.name}'`), p.options.combine, fn.exactMerge === true)
    // The aggregate is described alike with and without a combiner, which keeps no state: checkpoints restore across the option.
    const describe = () => ({ aggregate: fn.name })
    const build = (ctx: OperatorContext) => new KeyedAggregateOperator(fn, ctx, ttl)
    if (when === 'off') return this.keyedNode('keyed-aggregate', [], describe, build, [], columns)
    // Local-global: a combiner on every subtask of the input, then the aggregate merging partials by key.
    const combine = p.addNode('combine', [this.stream.edge()], { aggregate: fn.name, preAggregate: foldsWhen(when) }, { role: 'operator', keyed: false, build: (ctx) => new CombinerOperator(fn, this.keyFn, target.id, ctx, when) })
    const combined = new KeyedStream<T, K>(this.stream.derive(combine), partialOrKey(this.keyFn) as (value: T) => K)
    const out = combined.keyedNode<KeyedResult<K, R>>('keyed-aggregate', [], describe, build, [], columns)
    const target = out.node
    return out
  }

  /** Key salting: `fn` per key and salt, then the salts' partial accumulators merged per key. */
  private salted<A, R>(fn: AggregateFunction<T, A, R>, salt: number, combine: CombineOption | undefined): Stream<KeyedResult<K, R>> {
    if (!Number.isInteger(salt) || salt < 1) throw userError('SLUICE_BAD_OPTION', `aggregate '${fn.name}' after step '${this.stream.node.id}': salt must be a positive integer, got ${salt}`)
    const keyFn = this.keyFn
    // Each subtask deals salts in turn from its own counter: any spread gives the same merged result.
    let next = 0
    const spread = this.stream.map((v): Salted<K, T> => ({ k: keyFn(v), s: (next = (next + 1) % salt), v }))
    const partials = spread.keyBy(saltedKey).aggregate(saltedPartial<K, T, A>(fn), combine === undefined ? {} : { combine })
    return partials.keyBy((r) => r.value.k).aggregate(saltedMerge<K, A, R>(fn)) as Stream<KeyedResult<K, R>>
  }

  /**
   * A continuously updating pairwise reduction per key (a changelog, like `aggregate`).
   * @example readings.keyBy((r) => r.sensor).reduce((a, b) => (b.ts > a.ts ? b : a)) // the latest reading per sensor
   */
  reduce(fn: (a: T, b: T) => T, options: AggregateOptions = {}): Stream<KeyedResult<K, T>> {
    return this.aggregate(agg.reduce(fn), options)
  }

  /**
   * Custom keyed logic with state and timers. Declare the side outputs the function writes to.
   * @example clicks.keyBy((c) => c.userId).process<Click>({ processElement(c, ctx) { ctx.emit(c); if (c.kind === 'delete') ctx.side('audit', c) } }, { sideOutputs: ['audit'] })
   */
  process<O>(fn: KeyedProcessFunction<K, T, O>, options: { sideOutputs?: string[] } = {}): Stream<O> {
    if (fn === null || typeof fn !== 'object' || typeof fn.processElement !== 'function') {
      throw userError('SLUICE_BAD_ARGUMENT', `process needs an object with processElement(value, ctx) (after step '${this.stream.node.id}')`)
    }
    return this.keyedNode('process', [], () => ({ sideOutputs: options.sideOutputs ?? [] }), (ctx) => new KeyedProcessOperator(fn as KeyedProcessFunction<unknown, T, O>, ctx), options.sideOutputs, { kind: 'opaque', fn })
  }

  /**
   * Joins records of both streams with equal keys that fall in the same window; emitted when the window
   * fires. Outer types also emit unmatched records, paired with null.
   * @example orders.keyBy((o) => o.id).windowJoin(payments.keyBy((p) => p.order), window.tumbling({ size: '10m' }), (o, p) => ({ id: o.id, paid: p.amount }))
   */
  windowJoin<R, O, J extends JoinType = 'inner'>(other: KeyedStream<R, K>, assigner: WindowAssigner, fn: JoinFunction<T, R, O, J>, options: { type?: J } = {}): Stream<O> {
    const type = checkJoinType(options.type, 'windowJoin')
    return this.keyedNode(
      'window-join',
      [other],
      (id) => {
        checkAssigner(assigner, id)
        checkJoinAssigner(assigner, id)
        return { window: assigner.describe, type }
      },
      (ctx) => new WindowJoinOperator({ assigner, type, fn: fn as never }, ctx),
      ['late'],
      { kind: 'join', fn: fn as (l: unknown, r: unknown) => unknown },
    )
  }

  /**
   * Joins each record of this stream with the records of `other` whose event time lies in
   * `[t + lower, t + upper]`. `left` also emits records that found no match once their interval has passed.
   * @example bids.keyBy(b => b.auction).intervalJoin(auctions.keyBy(a => a.id), { lower: '-1h', upper: '0s' }, (b, a) => ({ ...b, seller: a.seller }))
   */
  intervalJoin<R, O, J extends 'inner' | 'left' = 'inner'>(other: KeyedStream<R, K>, bounds: { lower: Duration; upper: Duration; type?: J }, fn: JoinFunction<T, R, O, J>): Stream<O> {
    const type = checkJoinType(bounds.type, 'intervalJoin')
    if (type === 'right' || type === 'full') throw userError('SLUICE_BAD_OPTION', `intervalJoin supports type 'inner' or 'left', got '${type}'`)
    return this.keyedNode(
      'interval-join',
      [other],
      (id) => {
        const lower = parseDuration(bounds.lower, `step '${id}': lower bound`, { allowNegative: true })
        const upper = parseDuration(bounds.upper, `step '${id}': upper bound`, { allowNegative: true })
        if (lower > upper) throw userError('SLUICE_BAD_OPTION', `step '${id}': lower bound (${lower} ms) is above the upper bound (${upper} ms)`, { step: id })
        return { lowerMs: lower, upperMs: upper, type }
      },
      (ctx, id) => {
        const lower = parseDuration(bounds.lower, id, { allowNegative: true })
        const upper = parseDuration(bounds.upper, id, { allowNegative: true })
        return new IntervalJoinOperator({ lower, upper, type: type as 'inner' | 'left', fn: fn as never }, ctx)
      },
      ['late'],
      { kind: 'join', fn: fn as (l: unknown, r: unknown) => unknown },
    )
  }

  /**
   * Regular (unwindowed) join: every record of one side meets every record of the other with the same key,
   * whenever it arrives. State per key is kept for `ttl` after its last update: in processing time (the run's
   * clock) by default, or with `ttlTime: 'event'` until the watermark passes the update's event time plus `ttl`.
   * Outer types emit a changelog: an unmatched row with null, retracted (-D) when its first match arrives.
   * @example orders.keyBy((o) => o.customer).join(customers.keyBy((c) => c.id), { ttl: '1d', type: 'left' }, (o, c) => ({ id: o.id, country: c?.country ?? null }))
   */
  join<R, O, J extends JoinType = 'inner'>(other: KeyedStream<R, K>, options: { ttl: Duration; ttlTime?: JoinTtlTime; type?: J }, fn: JoinFunction<T, R, O, J>): Stream<O> {
    const type = checkJoinType(options.type, 'join')
    const ttlTime = checkTtlTime(options.ttlTime, 'join')
    return this.keyedNode(
      'join',
      [other],
      // Only an event-time TTL is described: checkpoints of joins written before it existed stay compatible.
      (id) => ({ ttlMs: parseDuration(options.ttl, `step '${id}': ttl`, { allowZero: false }), type, ...(ttlTime === 'event' ? { ttlTime } : {}) }),
      (ctx, id) => new RegularJoinOperator({ ttl: parseDuration(options.ttl, id), ttlTime, type, fn: fn as never }, ctx),
      [],
      { kind: 'join', fn: fn as (l: unknown, r: unknown) => unknown },
    )
  }

  /**
   * Two keyed streams processed by one function with shared keyed state and timers.
   * @example
   * orders.keyBy((o) => o.id).connect(payments.keyBy((pay) => pay.order)).process<string>({
   *   processElement1(o, ctx) { ctx.state.value<Order>('order').set(o) },
   *   processElement2(pay, ctx) { if (ctx.state.value<Order>('order').get() !== undefined) ctx.emit(ctx.key) },
   * })
   */
  connect<R>(other: KeyedStream<R, K>): { process<O>(fn: KeyedCoProcessFunction<K, T, R, O>, options?: { sideOutputs?: string[] }): Stream<O> } {
    return {
      process: <O>(fn: KeyedCoProcessFunction<K, T, R, O>, options: { sideOutputs?: string[] } = {}) =>
        this.keyedNode<O>('co-process', [other], () => ({ sideOutputs: options.sideOutputs ?? [] }), (ctx) => new CoProcessOperator(fn as never, ctx), options.sideOutputs, { kind: 'opaque', fn }),
    }
  }
}

function checkJoinType(t: JoinType | undefined, where: string): JoinType {
  const type = t ?? 'inner'
  if (!joinTypes.includes(type)) throw userError('SLUICE_BAD_OPTION', `${where}: type must be one of ${joinTypes.join(', ')}, got '${String(type)}'`)
  return type
}
