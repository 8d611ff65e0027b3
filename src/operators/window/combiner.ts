import { BatchBuilder, type Batch } from '../../core/batch.ts'
import { keyId } from '../../core/key.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'
import type { AggregateFunction } from '../aggregate/aggregate-function.ts'
import type { CombineWhen } from '../aggregate/combiner.ts'
import { FoldGate } from '../aggregate/fold-gate.ts'
import { PartialRecord } from '../aggregate/partial.ts'
import type { WindowAssigner } from './assigners.ts'

/**
 * What crosses the keyed exchange after a window combiner that pre-aggregates: the partial accumulator of `n`
 * records of one key in one window `[start, end)` (for sessions: the session those records make; with `pane`,
 * one pane of sliding windows, which the window step merges into every window holding it), with the span of
 * their event times. Records it does not fold cross as they are.
 */
export class WindowPartial<K, A> extends PartialRecord<K> {
  start: number
  end: number
  acc: A
  n: number
  minTs: number
  maxTs: number
  pane: boolean
  constructor(key: K, start: number, end: number, acc: A, ts: number, pane = false) {
    super(key)
    this.start = start
    this.end = end
    this.acc = acc
    this.n = 0
    this.minTs = ts
    this.maxTs = ts
    this.pane = pane
  }
}

/** The windows a combiner may pre-aggregate: event time, bounds of their own and the built-in event-time trigger. */
export function combinableWindow(assigner: WindowAssigner, builtinTrigger: boolean): boolean {
  return assigner.time === 'event' && assigner.boundsFromRecords !== true && builtinTrigger
}

/**
 * Local pre-aggregation before the keyed exchange of an event-time window (local-global aggregation): each
 * batch's records are folded per key and window into partial accumulators, so a hot key crosses the exchange
 * once per window and batch. The output is the plain window's because the combiner only folds records whose
 * every window is still open and not yet due at its own watermark, which is the watermark the window step sees
 * them with (the exchange delivers a record with the watermark its sender had). Any other record (late, within
 * allowed lateness, or in a window that fires on it) passes as it is, in order, and is handled as without the
 * combiner. The watermark it judges by is its step's input watermark, which a checkpoint keeps per subtask, so
 * it keeps no state. With `when: 'exchange'` it folds only at parallelism > 1 and otherwise hands each batch on
 * untouched (no exchange follows it), so the plan and its checkpoints are the same at every parallelism; and
 * only while folding sends on at most half the records it takes in (`FoldGate`): a sliding window makes a
 * partial per window a record falls in, so where keys rarely repeat in a batch it would send more than it got.
 */
export class WindowCombinerOperator<T, K, A> implements Operator {
  private readonly agg: AggregateFunction<T, A, unknown>
  private readonly key: (value: T) => K
  private readonly assigner: WindowAssigner
  private readonly op: OperatorContext
  /** The window step the partials go to, whose errors these are. */
  private readonly target: string
  private readonly folds: boolean
  /** With `when: 'exchange'`: whether folding pays. */
  private readonly gate: FoldGate | undefined
  private readonly out = new BatchBuilder<WindowPartial<K, A> | T>()
  /** Per key identity: its partials of this batch (few per key: one per window, or per session). */
  private readonly partials = new Map<unknown, WindowPartial<K, A>[]>()
  private readonly bounds: number[] = []

  constructor(agg: AggregateFunction<T, A, unknown>, key: (value: T) => K, assigner: WindowAssigner, target: string, op: OperatorContext, when: CombineWhen = 'always') {
    this.agg = agg
    this.folds = when === 'always' || op.parallelism > 1
    this.gate = when === 'always' ? undefined : new FoldGate()
    this.key = key
    this.assigner = assigner
    this.target = target
    this.op = op
  }

  process(batch: Batch, out: Output): void {
    const wm = this.op.currentWatermark()
    // Before the first watermark it cannot know what the window step holds late (a job restored from a
    // checkpoint taken without this step has no watermark for it): records pass as they are.
    if (!this.folds || wm === -Infinity || (this.gate !== undefined && !this.gate.shouldFold())) {
      this.op.metrics.recordsOut += batch.values.length
      return out.emit(batch)
    }
    const { values, times } = batch
    const { bounds, assigner } = this
    const paneSize = assigner.paneSize
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as T
      const ts = times[i]
      let key: K
      try {
        key = this.key(v)
        let open = true
        // A window whose last instant the watermark reached fires (or is late) on this record: not combined.
        // With panes, the window that ends first among a pane's ends with the pane.
        const pane = paneSize === undefined ? NaN : assigner.paneStart!(ts)
        if (paneSize !== undefined) open = pane + paneSize - 1 > wm
        else {
          bounds.length = 0
          assigner.assign(ts, bounds)
          for (let b = 1; b < bounds.length; b += 2) if (bounds[b] - 1 <= wm) open = false
        }
        if (!open) {
          // Partials folded so far go first, so the window step sees records in the order they came.
          this.flushPartials()
          this.out.push(v, ts)
          continue
        }
        const id = keyId(key)
        let list = this.partials.get(id)
        if (list === undefined) this.partials.set(id, (list = []))
        if (assigner.merging) this.addSession(list, key, v, ts, bounds[0], bounds[1])
        else if (paneSize !== undefined) this.addTo(this.slot(list, key, pane, pane + paneSize, ts, true), v, ts)
        else for (let b = 0; b < bounds.length; b += 2) this.addTo(this.slot(list, key, bounds[b], bounds[b + 1], ts), v, ts)
      } catch (e) {
        this.op.errors.report(this.target, e, v, ts, batch.pos?.[i])
      }
    }
    this.flushPartials()
    this.gate?.folded(values.length, this.out.length)
    if (this.out.length > 0) {
      const b = this.out.take()
      this.op.metrics.recordsOut += b.values.length
      out.emit(b)
    }
  }

  private slot(list: WindowPartial<K, A>[], key: K, start: number, end: number, ts: number, pane = false): WindowPartial<K, A> {
    for (let s = 0; s < list.length; s++) if (list[s].start === start) return list[s]
    const p = new WindowPartial<K, A>(key, start, end, this.agg.create(), ts, pane)
    list.push(p)
    return p
  }

  private addTo(p: WindowPartial<K, A>, v: T, ts: number): void {
    p.acc = this.agg.add(p.acc, v)
    p.n++
    if (ts > p.maxTs) p.maxTs = ts
    if (ts < p.minTs) p.minTs = ts
  }

  /** Sessions merge as the window step merges them: windows that touch become one. */
  private addSession(list: WindowPartial<K, A>[], key: K, v: T, ts: number, s0: number, e0: number): void {
    let target: WindowPartial<K, A> | undefined
    for (let s = 0; s < list.length; s++) {
      const p = list[s]
      if (p.start > e0 || p.end < s0) continue
      if (target === undefined) {
        target = p
        continue
      }
      target.acc = this.agg.merge(target.acc, p.acc)
      target.n += p.n
      if (p.start < target.start) target.start = p.start
      if (p.end > target.end) target.end = p.end
      if (p.maxTs > target.maxTs) target.maxTs = p.maxTs
      if (p.minTs < target.minTs) target.minTs = p.minTs
      list.splice(s, 1)
      s--
    }
    if (target === undefined) {
      target = new WindowPartial<K, A>(key, s0, e0, this.agg.create(), ts)
      list.push(target)
    }
    if (s0 < target.start) target.start = s0
    if (e0 > target.end) target.end = e0
    this.addTo(target, v, ts)
  }

  private flushPartials(): void {
    if (this.partials.size === 0) return
    for (const list of this.partials.values()) for (const p of list) this.out.push(p, p.maxTs)
    this.partials.clear()
  }
}
