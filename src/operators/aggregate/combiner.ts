import { BatchBuilder, INSERT, type Batch } from '../../core/batch.ts'
import { keyId } from '../../core/key.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'
import type { AggregateFunction } from './aggregate-function.ts'

/**
 * What crosses a keyed exchange after a combiner: the partial accumulator of `n` records of one key, or (for a
 * record of an updating input, which is not combined) the record itself in `raw`.
 */
export type Combined<K, T, A> = { key: K; acc: A; n: number } | { key: K; raw: T }

/**
 * Local pre-aggregation before a keyed exchange (Flink's local-global aggregation): each batch's records are
 * folded per key into partial accumulators, so a key met a thousand times in a batch crosses the exchange once
 * and the subtask that owns a hot key merges partials instead of adding records. Keeps nothing between batches
 * (no state to checkpoint, no added latency). Records of an updating input (a changelog) pass one by one.
 * Errors of the key function or of `add` are reported under the aggregate's step, as without the combiner.
 */
export class CombinerOperator<T, K, A> implements Operator {
  private readonly agg: AggregateFunction<T, A, unknown>
  private readonly key: (value: T) => K
  private readonly op: OperatorContext
  /** The aggregate step the partials go to, whose errors these are. */
  private readonly target: string
  private readonly out = new BatchBuilder<Combined<K, T, A>>()
  private readonly partials = new Map<unknown, { key: K; acc: A; n: number; time: number }>()

  constructor(agg: AggregateFunction<T, A, unknown>, key: (value: T) => K, target: string, op: OperatorContext) {
    this.agg = agg
    this.key = key
    this.target = target
    this.op = op
  }

  process(batch: Batch, out: Output): void {
    const { values, times, kinds } = batch
    if (kinds !== undefined) return this.passRaw(batch, out)
    const { agg, partials } = this
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as T
      try {
        const key = this.key(v)
        const id = keyId(key)
        let p = partials.get(id)
        if (p === undefined) partials.set(id, (p = { key, acc: agg.create(), n: 0, time: times[i] }))
        p.acc = agg.add(p.acc, v)
        p.n++
        if (times[i] > p.time) p.time = times[i]
      } catch (e) {
        this.op.errors.report(this.target, e, v, times[i], batch.pos?.[i])
      }
    }
    for (const p of partials.values()) this.out.push({ key: p.key, acc: p.acc, n: p.n }, p.time)
    partials.clear()
    if (this.out.length > 0) out.emit(this.out.take())
  }

  private passRaw(batch: Batch, out: Output): void {
    const { values, times, kinds } = batch
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as T
      let key: K
      try {
        key = this.key(v)
      } catch (e) {
        this.op.errors.report(this.target, e, v, times[i], batch.pos?.[i])
        continue
      }
      this.out.pushKind({ key, raw: v }, times[i], kinds === undefined ? INSERT : kinds[i])
    }
    if (this.out.length > 0) out.emit(this.out.take())
  }
}

/** The key of a combined record, for the keyed exchange after a combiner. */
export const combinedKey = <K>(c: Combined<K, unknown, unknown>): K => c.key
