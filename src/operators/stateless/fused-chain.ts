import { BatchBuilder, INSERT, type Batch, type Position, type RowKind } from '../../core/batch.ts'
import type { ErrorSink, Operator, Output } from '../../core/operator.ts'
import type { StepMetrics } from '../../core/metrics.ts'
import type { Link } from '../../plan/graph.ts'
import { badResult, isBadResult } from '../../core/record-errors.ts'
import { MAX_YIELD_STRIDE, type Pausable } from '../pausable.ts'

export interface FusedLink {
  stepId: string
  link: Link
  metrics: StepMetrics
}

type Push = (value: unknown, time: number) => void

/** A flatMap call whose items are all taken, so a retry of a failing iterator starts over (`this` is the function). */
function collect(this: (v: unknown) => Iterable<unknown>, v: unknown): unknown[] {
  const items = this(v)
  return Array.isArray(items) ? items : [...items]
}

/**
 * Consecutive map / filter / flatMap steps run as one loop over the batch: each record goes through the
 * whole chain before the next one starts, and no intermediate batch is built. Changelog kinds and source
 * positions ride along unchanged.
 */
export class FusedChain implements Operator, Pausable {
  private readonly links: FusedLink[]
  private readonly errors: ErrorSink
  private readonly head: Push
  /** The same chain for batches without kinds or positions (most): its last step only appends. */
  private readonly plainHead: Push
  private readonly counts: Int32Array
  private readonly outb = new BatchBuilder()
  // The plain chain's output, reused from batch to batch: arrays that keep their elements kind let V8
  // inline the appends (a fresh empty array changes kind on its first value, and pushes onto it are calls).
  private readonly plainValues: unknown[] = []
  private readonly plainTimes: number[] = []
  private kind: RowKind = INSERT
  private pos: Position | undefined = undefined
  /** The trace context of the record being handled, when its batch has per record ones. */
  private trace: string | undefined = undefined
  private withKinds = false
  private withPos = false

  constructor(links: FusedLink[], errors: ErrorSink) {
    this.links = links
    this.errors = errors
    this.counts = new Int32Array(links.length)
    const outb = this.outb
    let next: Push = (v, t) => {
      if (this.withKinds) outb.pushKind(v, t, this.kind)
      else outb.push(v, t)
      if (this.withPos) (outb.pos ??= []).push(this.pos!)
      if (this.trace !== undefined) outb.traceLast(this.trace)
    }
    for (let j = links.length - 1; j >= 0; j--) next = this.compile(j, next)
    this.head = next
    const plainValues = this.plainValues
    const plainTimes = this.plainTimes
    let plain: Push = (v, t) => {
      plainValues.push(v)
      plainTimes.push(t)
    }
    for (let j = links.length - 1; j >= 0; j--) plain = this.compile(j, plain)
    this.plainHead = plain
  }

  private compile(j: number, next: Push): Push {
    const { link, stepId } = this.links[j]
    const counts = this.counts
    const errors = this.errors
    const fail = (e: unknown, v: unknown, t: number) => this.errors.report(stepId, e, v, t, this.pos)
    switch (link.op) {
      case 'map': {
        const fn = link.fn
        return (v, t) => {
          let r: unknown
          try {
            r = fn(v)
          } catch (e) {
            try {
              r = errors.retry(stepId, e, fn, undefined, v)
            } catch (last) {
              fail(last, v, t)
              return
            }
          }
          if (isBadResult(r)) return fail(badResult(stepId, 'map', r), v, t)
          counts[j]++
          next(r, t)
        }
      }
      case 'filter': {
        const fn = link.fn
        return (v, t) => {
          let keep: boolean
          try {
            keep = fn(v)
          } catch (e) {
            try {
              keep = errors.retry(stepId, e, fn, undefined, v) as boolean
            } catch (last) {
              fail(last, v, t)
              return
            }
          }
          if (keep) {
            if ((keep as unknown) instanceof Promise) return fail(badResult(stepId, 'filter', keep), v, t)
            counts[j]++
            next(v, t)
          }
        }
      }
      case 'flatMap': {
        const fn = link.fn
        // Iterables and failures are handled out of line: the per-record closure stays small enough for
        // V8 to inline into the step before it, with the user's function inlined into it.
        const rest = (items: Iterable<unknown>, t: number, v: unknown): void => {
          if (items === undefined || items === null || items instanceof Promise) return fail(badResult(stepId, 'flatMap', items), v, t)
          for (const item of items) {
            counts[j]++
            next(item, t)
          }
        }
        const failed = (e: unknown, v: unknown, t: number, before: number): void => {
          // Retried only if nothing went downstream yet: a retry calls the function from the start.
          if (counts[j] !== before) return fail(e, v, t)
          let again: unknown[]
          try {
            again = errors.retry(stepId, e, collect, fn, v) as unknown[]
          } catch (last) {
            return fail(last, v, t)
          }
          counts[j] += again.length
          for (let k = 0; k < again.length; k++) next(again[k], t)
        }
        return (v, t) => {
          const before = counts[j]
          try {
            const items = fn(v)
            if (!Array.isArray(items)) return rest(items, t, v)
            counts[j] += items.length
            for (let k = 0; k < items.length; k++) next(items[k], t)
          } catch (e) {
            failed(e, v, t, before)
          }
        }
      }
    }
  }

  /** Set by the runtime: whether to pause the batch now (see `Pausable`); its output is emitted once, when it is done. */
  shouldYield: (() => boolean) | undefined = undefined
  /** The most records between two `shouldYield` calls. */
  yieldStride = MAX_YIELD_STRIDE
  private paused: { batch: Batch; out: Output; next: number } | undefined = undefined

  /** A batch is paused part-way: `resume` goes on with it. */
  get pending(): boolean {
    return this.paused !== undefined
  }

  process(batch: Batch, out: Output): void {
    if (batch.kinds === undefined && batch.pos === undefined && batch.traces === undefined) {
      this.plainValues.length = 0
      this.plainTimes.length = 0
    }
    this.run(batch, out, 0)
  }

  /** Goes on with the paused batch; true once it is done (and its output emitted), false if it paused again. */
  resume(): boolean {
    const p = this.paused
    if (p === undefined) return true
    this.paused = undefined
    this.run(p.batch, p.out, p.next)
    return this.paused === undefined
  }

  private run(batch: Batch, out: Output, from: number): void {
    const { values, times, kinds, pos, traces } = batch
    this.withKinds = kinds !== undefined
    this.withPos = pos !== undefined
    const n = values.length
    const plain = kinds === undefined && pos === undefined && traces === undefined
    const check = this.shouldYield
    // Runs of 1, 2, 4, ... up to `yieldStride` records, so that the inner loops stay as they were, a slow function
    // is seen after one record and a fast one costs one check per run.
    let stride = 1
    for (let i = from; i < n; ) {
      const end = check === undefined ? n : Math.min(n, i + stride)
      if (stride < this.yieldStride) stride *= 2
      if (plain) {
        const head = this.plainHead
        for (; i < end; i++) head(values[i], times[i])
      } else {
        const head = this.head
        for (; i < end; i++) {
          if (kinds !== undefined) this.kind = kinds[i]
          if (pos !== undefined) this.pos = pos[i]
          if (traces !== undefined) this.trace = traces[i]
          head(values[i], times[i])
        }
        this.pos = undefined
        this.trace = undefined
      }
      if (i < n && check !== undefined && check()) {
        this.paused = { batch, out, next: i }
        return
      }
    }
    let inCount = n
    for (let j = 0; j < this.links.length; j++) {
      const m = this.links[j].metrics
      m.recordsIn += inCount
      m.recordsOut += this.counts[j]
      inCount = this.counts[j]
      this.counts[j] = 0
    }
    if (plain) {
      if (this.plainValues.length > 0) out.emit({ values: this.plainValues.slice(), times: this.plainTimes.slice() })
    } else if (this.outb.length > 0) {
      out.emit(this.outb.take())
    }
  }
}
