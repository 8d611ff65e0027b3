import type { Key } from '../core/key.ts'
import { sinkGuarantee, type Sink } from '../core/sink.ts'
import { userError } from '../core/errors.ts'
import type { Link, StepNode } from '../plan/graph.ts'
import type { Pipeline } from './pipeline.ts'
import { KeyedStream } from './keyed-stream.ts'
import { UnionOperator } from '../operators/union/union-operator.ts'
import { LookupOperator } from '../operators/lookup/lookup-operator.ts'
import { resolveLookupOptions, type LookupFunction, type LookupOptions } from '../operators/lookup/options.ts'
import type { WindowAssigner } from '../operators/window/assigners.ts'
import type { WindowOptions, WindowedStream } from './windowed-stream.ts'
import type { Expectation } from '../contracts/quality/expectations.ts'
import { addExpectStep, type ExpectOptions } from './expect-step.ts'

/**
 * A stream of records of type `T`. Every method adds a step and returns a new stream; types flow through,
 * so a wrong field name is a compile error.
 * @example const views: Stream<Click> = p.from(source.jsonl<Click>('clicks.jsonl')).filter((c) => c.kind === 'view')
 */
export class Stream<T> {
  /**
   * The pipeline this stream belongs to.
   * @example clicks.pipeline.name // the name of the pipeline clicks was read in
   */
  readonly pipeline: Pipeline
  /** @internal */
  /**
   * The step that produces this stream.
   * @example clicks.map((c) => c.page).id('pages').node.id // 'pages'
   */
  readonly node: StepNode
  /** @internal side output of `node` this stream reads, if any. */
  /**
   * The side output this stream reads (`sideOutput(tag)`), or undefined for the step's main output.
   * @example counts.sideOutput('late').tag // 'late'; undefined on the main output
   */
  readonly tag: string | undefined

  constructor(pipeline: Pipeline, node: StepNode, tag?: string) {
    this.pipeline = pipeline
    this.node = node
    this.tag = tag
  }

  /**
   * Sets the id of the step that produced this stream (state and metrics are addressed by it).
   * @example orders.map((o) => ({ ...o, total: o.price * o.qty })).id('enrich') // its metrics, errors and state go by 'enrich'
   */
  id(id: string): this {
    if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) {
      throw userError('SLUICE_BAD_STEP_ID', `step id '${String(id)}' is invalid (step '${this.node.id}')`, { hint: 'use letters, digits, dot, dash and underscore' })
    }
    this.node.id = id
    this.node.explicitId = true
    return this
  }

  private link<U>(kind: Link['op'], link: Link, describe: Record<string, unknown> = {}): Stream<U> {
    if (typeof link.fn !== 'function') throw userError('SLUICE_BAD_ARGUMENT', `${kind} needs a function, got ${typeof link.fn} (after step '${this.node.id}')`)
    const node = this.pipeline.addNode(kind, [this.edge()], describe, { role: 'stateless', link })
    return new Stream<U>(this.pipeline, node)
  }

  /** @internal The stream of `node`'s main output in this stream's pipeline: how keyed and windowed streams return one. */
  derive<U>(node: StepNode): Stream<U> {
    return new Stream<U>(this.pipeline, node)
  }

  /** @internal */
  edge(key?: (v: any) => unknown): StepNode['inputs'][number] {
    return { from: this.node, ...(this.tag !== undefined ? { tag: this.tag } : {}), ...(key !== undefined ? { key } : {}) }
  }

  /** Transforms each record. @example clicks.map(c => ({ page: c.url, at: c.ts })) */
  map<U>(fn: (value: T) => U): Stream<U> {
    return this.link<U>('map', { op: 'map', fn })
  }

  /**
   * Keeps the records for which `fn` is true. A type guard narrows the type.
   * @example orders.filter((o) => o.amount > 0)
   */
  filter<S extends T>(fn: (value: T) => value is S): Stream<S>
  filter(fn: (value: T) => boolean): Stream<T>
  filter(fn: (value: T) => boolean): Stream<T> {
    return this.link<T>('filter', { op: 'filter', fn })
  }

  /**
   * Turns each record into zero or more records.
   * @example lines.flatMap((l) => l.text.split(' '))
   */
  flatMap<U>(fn: (value: T) => Iterable<U>): Stream<U> {
    return this.link<U>('flatMap', { op: 'flatMap', fn })
  }

  /**
   * Partitions by key: the steps that follow see one key at a time, with state per key. Keys are primitives
   * or tuples of primitives.
   * @example clicks.keyBy((c) => c.userId) // or a tuple: keyBy((c) => [c.page, c.country])
   */
  keyBy<K extends Key>(fn: (value: T) => K): KeyedStream<T, K> {
    if (typeof fn !== 'function') throw userError('SLUICE_BAD_ARGUMENT', `keyBy needs a function (after step '${this.node.id}')`)
    return new KeyedStream<T, K>(this, fn)
  }

  /**
   * Windows over the whole stream (one key for everything: runs on a single subtask).
   * @example clicks.windowAll(window.tumbling({ size: '1m' })).count()
   */
  windowAll(assigner: WindowAssigner, options?: WindowOptions<T>): WindowedStream<T, 0> {
    return this.keyBy(() => 0 as const).window(assigner, options)
  }

  /**
   * Merges streams of the same type; the watermark is the minimum of theirs.
   * @example web.union(mobile).keyBy((c) => c.userId)
   */
  union(...others: Stream<T>[]): Stream<T> {
    for (const o of others) {
      if (o.pipeline !== this.pipeline) throw userError('SLUICE_BAD_ARGUMENT', `union: streams of different pipelines ('${this.pipeline.name}' and '${o.pipeline.name}')`)
    }
    const node = this.pipeline.addNode('union', [this.edge(), ...others.map((o) => o.edge())], { inputs: others.length + 1 }, {
      role: 'operator',
      keyed: false,
      build: (ctx) => new UnionOperator(ctx),
    })
    return new Stream<T>(this.pipeline, node)
  }

  /**
   * Checks quality expectations on the records that pass (per tumbling event-time window, or over the whole
   * run): records go on (less those a `drop` expectation removes, which go to the error path), and one
   * `QualityResult` per expectation and window comes out on `.sideOutput('quality')`. A `fail` expectation
   * stops the job. Runs as one subtask.
   * @example bids.expect([expect.notNull('bidder'), expect.inRange('price', { min: 1 }, 'drop')], { window: '1m' })
   */
  expect(expectations: readonly Expectation[], options: ExpectOptions = {}): Stream<T> {
    return addExpectStep(this, expectations, options)
  }

  /**
   * Enriches records with an async lookup (a cache, a database, a service): `fn` is called once per distinct
   * key of a batch not in the cache, up to `concurrency` at a time (the input waits beyond that), with a
   * timeout and retries; a record whose lookup still fails goes to the error path. Output is
   * `into(record, result)`, in input order unless `ordered: false`. With checkpoints, lookups in flight
   * finish before a barrier passes the step, so the effect stays exactly-once. Ready-made: `lookup.redis`,
   * `lookup.postgres`.
   * @example orders.lookup(lookup.redis({ url, type: 'hash', prefix: 'user:' }), { key: (o) => o.userId, into: (o, user) => ({ ...o, user }), cache: { ttl: '1m' } })
   */
  lookup<R, K = T, U = { value: T; result: R }>(fn: LookupFunction<K, R>, options: LookupOptions<T, K, R, U> = {}): Stream<U> {
    if (typeof fn !== 'function') throw userError('SLUICE_BAD_ARGUMENT', `lookup needs an async function (after step '${this.node.id}')`)
    const o = resolveLookupOptions(options)
    const node = this.pipeline.addNode('lookup', [this.edge()], { concurrency: o.concurrency, timeoutMs: o.timeoutMs, retries: o.retries, ordered: o.ordered, cache: o.cache ?? null }, {
      role: 'operator',
      keyed: false,
      build: (ctx) => new LookupOperator(fn, o, ctx),
    })
    return new Stream<U>(this.pipeline, node)
  }

  /**
   * The named side output of the step that produced this stream (late records, user tags).
   * @example counts.sideOutput<LateRecord<Click>>('late-clicks').to(sink.jsonl('out/late.jsonl'))
   */
  sideOutput<U>(tag: string): Stream<U> {
    if (!this.node.sideOutputs.includes(tag)) {
      throw userError('SLUICE_UNKNOWN_SIDE_OUTPUT', `step '${this.node.id}' has no side output '${tag}'`, {
        hint: this.node.sideOutputs.length > 0 ? `its side outputs are: ${this.node.sideOutputs.join(', ')}` : 'this step declares no side outputs',
      })
    }
    return new Stream<U>(this.pipeline, this.node, tag)
  }

  /**
   * Writes to a sink; call it again to write to several. Returns this stream. `id` names the sink's step
   * (default `sink-<kind>-<n>`): a checkpoint keeps the sink's uncommitted output under it, so give a sink
   * an id before adding or removing others in a pipeline that restores from checkpoints or savepoints.
   * @example counts.to(sink.jsonl('out/counts.jsonl'), { id: 'counts-out' })
   */
  to(sink: Sink<T>, options: { id?: string } = {}): Stream<T> {
    if (sink === null || typeof sink !== 'object' || typeof sink.open !== 'function') {
      throw userError('SLUICE_BAD_ARGUMENT', `to() needs a sink (after step '${this.node.id}')`, { hint: 'use one of sink.console(), sink.jsonl(path), sink.collect(), sink.blackhole()' })
    }
    const guarantee = { checkpointing: sinkGuarantee(sink, { checkpointing: true }), withoutCheckpoints: sinkGuarantee(sink, { checkpointing: false }) }
    const node = this.pipeline.addNode(`sink-${sink.kind}`, [this.edge()], { sink: sink.describe(), guarantee }, { role: 'sink', sink })
    if (options.id !== undefined) new Stream<T>(this.pipeline, node).id(options.id)
    return this
  }
}
