import type { Batch } from '../../core/batch.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'
import { KeyedContext } from '../process/keyed-context.ts'
import type { KeyedCoProcessFunction } from './join-types.ts'

/**
 * Runs a user's keyed co-process function: `processElement1` for input 0, `processElement2` for input 1,
 * with keyed state and timers shared by both inputs (Flink's KeyedCoProcessOperator).
 */
export class CoProcessOperator implements Operator {
  private readonly fn: KeyedCoProcessFunction<unknown, unknown, unknown, unknown>
  private readonly op: OperatorContext
  private readonly ctx: KeyedContext<unknown>

  constructor(fn: KeyedCoProcessFunction<unknown, unknown, unknown, unknown>, ctx: OperatorContext) {
    this.fn = fn
    this.op = ctx
    this.ctx = new KeyedContext<unknown>(ctx)
  }

  process(batch: Batch, out: Output, input: number): void {
    const { values, times, pos } = batch
    const keys = batch.keys!
    const ctx = this.ctx
    const fn = this.fn
    const element = input === 0 ? fn.processElement1 : fn.processElement2
    for (let i = 0; i < values.length; i++) {
      ctx.setKey(keys[i])
      ctx.timestamp = times[i]
      try {
        element.call(fn, values[i], ctx)
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
    const onTimer = this.fn.onTimer
    if (onTimer === undefined) return
    this.ctx.fireTimers(domain, upTo, (time) => {
      try {
        onTimer.call(this.fn, time, this.ctx)
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
