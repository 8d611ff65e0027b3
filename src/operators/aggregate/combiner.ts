import { BatchBuilder, type Batch } from '../../core/batch.ts'
import { keyId } from '../../core/key.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'
import type { AggregateFunction } from './aggregate-function.ts'
import { FoldGate } from './fold-gate.ts'
import { PartialRecord } from './partial.ts'

/** What crosses a keyed exchange after a combiner that pre-aggregates: the partial accumulator of `n` records of one key. */
export class KeyedPartial<K, A> extends PartialRecord<K> {
  acc: A
  n: number
  constructor(key: K, acc: A) {
    super(key)
    this.acc = acc
    this.n = 0
  }
}

/**
 * When a combiner folds records: only where an exchange follows (parallelism > 1) and while folding pays (keys
 * repeat within batches, see `FoldGate`), or always.
 */
export type CombineWhen = 'exchange' | 'always'

/**
 * Local pre-aggregation before a keyed exchange (Flink's local-global aggregation): each batch's records are
 * folded per key into partial accumulators, so a key met a thousand times in a batch crosses the exchange once
 * and the subtask that owns a hot key merges partials instead of adding records. Keeps nothing between batches
 * (no state to checkpoint, no added latency). Records of an updating input (a changelog) pass as they are.
 * With `when: 'exchange'` it folds only at parallelism > 1 (at parallelism 1 no exchange follows and it hands
 * each batch on untouched, so the plan and its checkpoints are the same at every parallelism), and only while
 * folding sends on at most half the records it takes in (`FoldGate`).
 * Errors of the key function or of `add` are reported under the aggregate's step, as without the combiner.
 */
export class CombinerOperator<T, K, A> implements Operator {
  private readonly agg: AggregateFunction<T, A, unknown>
  private readonly key: (value: T) => K
  private readonly op: OperatorContext
  /** The aggregate step the partials go to, whose errors these are. */
  private readonly target: string
  private readonly folds: boolean
  /** With `when: 'exchange'`: whether folding pays. */
  private readonly gate: FoldGate | undefined
  private readonly out = new BatchBuilder<KeyedPartial<K, A>>()
  private readonly partials = new Map<unknown, { p: KeyedPartial<K, A>; time: number }>()

  constructor(agg: AggregateFunction<T, A, unknown>, key: (value: T) => K, target: string, op: OperatorContext, when: CombineWhen = 'always') {
    this.agg = agg
    this.key = key
    this.target = target
    this.op = op
    this.folds = when === 'always' || op.parallelism > 1
    this.gate = when === 'always' ? undefined : new FoldGate()
  }

  process(batch: Batch, out: Output): void {
    if (!this.folds || batch.kinds !== undefined || (this.gate !== undefined && !this.gate.shouldFold())) {
      this.op.metrics.recordsOut += batch.values.length
      return out.emit(batch)
    }
    const { values, times } = batch
    const { agg, partials } = this
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as T
      try {
        const key = this.key(v)
        const id = keyId(key)
        let e = partials.get(id)
        if (e === undefined) partials.set(id, (e = { p: new KeyedPartial<K, A>(key, agg.create()), time: times[i] }))
        e.p.acc = agg.add(e.p.acc, v)
        e.p.n++
        if (times[i] > e.time) e.time = times[i]
      } catch (e) {
        this.op.errors.report(this.target, e, v, times[i], batch.pos?.[i])
      }
    }
    for (const e of partials.values()) this.out.push(e.p, e.time)
    this.gate?.folded(values.length, partials.size)
    partials.clear()
    if (this.out.length > 0) {
      const b = this.out.take()
      this.op.metrics.recordsOut += b.values.length
      out.emit(b)
    }
  }
}
