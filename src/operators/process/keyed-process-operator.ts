import type { Batch } from '../../core/batch.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'
import { KeyedContext } from './keyed-context.ts'
import type { KeyedProcessFunction, ProcessContext } from './process-function.ts'

type ElementFn<O> = (value: any, ctx: ProcessContext<unknown, O>) => void
type TimerFn<O> = (time: number, ctx: ProcessContext<unknown, O>) => void

/**
 * Runs user functions with keyed state and timers over batches: one element function per input (a keyed
 * process function has one, a co-process function two) and an optional timer callback.
 */
export class UserFunctionOperator<O> implements Operator {
  private readonly self: object
  private readonly elements: ElementFn<O>[]
  private readonly onTimer: TimerFn<O> | undefined
  private readonly op: OperatorContext
  private readonly ctx: KeyedContext<O>

  constructor(self: object, elements: ElementFn<O>[], onTimer: TimerFn<O> | undefined, op: OperatorContext) {
    this.self = self
    this.elements = elements
    this.onTimer = onTimer
    this.op = op
    this.ctx = new KeyedContext<O>(op)
  }

  process(batch: Batch, out: Output, input = 0): void {
    const { values, times, pos } = batch
    const keys = batch.keys!
    const ctx = this.ctx
    const self = this.self
    const element = this.elements[input]
    for (let i = 0; i < values.length; i++) {
      ctx.setKey(keys[i])
      ctx.timestamp = times[i]
      try {
        element.call(self, values[i], ctx)
      } catch (e) {
        this.op.errors.report(this.op.stepId, e, values[i], times[i], pos?.[i])
      }
    }
    ctx.flush(out)
  }

  onWatermark(watermark: number, out: Output): void {
    this.ctx.watermark = watermark
    this.fireTimers('event', watermark)
    this.ctx.flush(out)
  }

  onProcessingTime(now: number, out: Output): void {
    this.fireTimers('processing', now)
    this.ctx.flush(out)
  }

  private fireTimers(domain: 'event' | 'processing', upTo: number): void {
    const onTimer = this.onTimer
    if (onTimer === undefined) return
    this.ctx.fireTimers(domain, upTo, (time) => {
      try {
        onTimer.call(this.self, time, this.ctx)
      } catch (e) {
        this.op.errors.report(this.op.stepId, e, { timer: time, key: this.ctx.key }, time, undefined)
      }
    })
  }

  /** End of input: processing-time timers still pending fire now, so a bounded run leaves nothing behind. */
  finish(out: Output): void {
    this.fireTimers('processing', Infinity)
    this.ctx.flush(out)
  }

  snapshot(): unknown {
    return { state: this.op.state.snapshot(), timers: this.ctx.snapshotTimers(), watermark: this.ctx.watermark }
  }

  restore(s: unknown): void {
    const snap = s as { state: never; timers: unknown; watermark: number }
    this.op.state.restore(snap.state)
    this.ctx.restoreTimers(snap.timers)
    this.ctx.watermark = snap.watermark
  }
}

/** Runs a user's keyed process function (Flink's KeyedProcessOperator). */
export class KeyedProcessOperator<T, O> extends UserFunctionOperator<O> {
  constructor(fn: KeyedProcessFunction<unknown, T, O>, op: OperatorContext) {
    super(fn, [fn.processElement], fn.onTimer, op)
  }
}
