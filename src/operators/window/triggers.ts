import { parseDuration, type Duration } from '../../core/duration.ts'
import { userError } from '../../core/errors.ts'

/**
 * What a trigger decides for a window: keep going, emit its result, drop its contents, or both.
 * @example const atEnd: Trigger['onEventTime'] = (time, _start, end): TriggerResult => (time >= end - 1 ? 'fire-purge' : 'continue')
 */
export type TriggerResult = 'continue' | 'fire' | 'purge' | 'fire-purge'

/**
 * What a trigger sees of its window: the watermark, the processing time, one number of state, and
 * timers it can set on either clock.
 * @example
 * const atWindowEnd: Trigger = {
 *   kind: 'at-window-end', describe: {},
 *   onElement: (_start, end, ctx) => { ctx.registerEventTimer(end - 1); return 'continue' },
 *   onEventTime: () => 'fire', onProcessingTime: () => 'continue',
 * }
 */
export interface TriggerContext {
  /** The operator's current event-time watermark. */
  watermark: number
  /** The current processing time. */
  readonly now: number
  registerEventTimer(time: number): void
  registerProcessingTimer(time: number): void
  /** One number of per-window state the trigger may use (a count, a next firing time); starts at 0. */
  state: number
}

/**
 * Decides when a window emits. Pure: all state lives in `ctx.state`, so the operator can snapshot it.
 * The window is `[start, end)`; its last instant is `end - 1`.
 * @example
 * const everyRecord: Trigger = { kind: 'every-record', describe: {}, onElement: () => 'fire', onEventTime: () => 'continue', onProcessingTime: () => 'continue' }
 * clicks.keyBy((c) => c.page).window(window.global(), { trigger: everyRecord }).count()
 */
export interface Trigger {
  readonly kind: string
  readonly describe: Record<string, unknown>
  onElement(start: number, end: number, ctx: TriggerContext): TriggerResult
  onEventTime(time: number, start: number, end: number, ctx: TriggerContext): TriggerResult
  onProcessingTime(time: number, start: number, end: number, ctx: TriggerContext): TriggerResult
  /** The state of a window merged from two (sessions); default: their sum, which suits a count. */
  mergeState?(a: number, b: number): number
}

const builtinEventTime = new WeakSet<Trigger>()

/** True for the built-in event-time trigger, which the window operator runs inline on its hot path. */
export function isBuiltinEventTimeTrigger(t: Trigger): boolean {
  return builtinEventTime.has(t)
}

/**
 * Fires once the watermark passes the end of the window (and again for each late record within lateness).
 * The default of event-time windows.
 * @example stream.keyBy((c) => c.page).window(window.tumbling({ size: '1m' }), { trigger: trigger.eventTime() })
 */
export function eventTimeTrigger(): Trigger {
  const t: Trigger = {
    kind: 'event-time',
    describe: { kind: 'event-time' },
    onElement(_s, end, ctx) {
      if (end - 1 <= ctx.watermark) return 'fire'
      ctx.registerEventTimer(end - 1)
      return 'continue'
    },
    onEventTime: (time, _s, end) => (time >= end - 1 ? 'fire' : 'continue'),
    onProcessingTime: () => 'continue',
  }
  builtinEventTime.add(t)
  return t
}

/**
 * Fires when the processing-time clock passes the end of the window.
 * @example window.tumbling({ size: '10s', time: 'processing' }) // uses this trigger by default
 */
export function processingTimeTrigger(): Trigger {
  return {
    kind: 'processing-time',
    describe: { kind: 'processing-time' },
    onElement(_s, end, ctx) {
      ctx.registerProcessingTimer(end - 1)
      return 'continue'
    },
    onEventTime: () => 'continue',
    onProcessingTime: (time, _s, end) => (time >= end - 1 ? 'fire' : 'continue'),
  }
}

/**
 * Never fires on its own; a bounded input still fires what is left at its end.
 * @example stream.keyBy((o) => o.country).window(window.global(), { trigger: trigger.never() }) // totals at the end
 */
export function neverTrigger(): Trigger {
  return {
    kind: 'never',
    describe: { kind: 'never' },
    onElement: () => 'continue',
    onEventTime: () => 'continue',
    onProcessingTime: () => 'continue',
  }
}

/**
 * Fires every `n` records of a window; with `purge` the window starts empty again (count windows).
 * @example stream.keyBy((o) => o.country).window(window.global(), { trigger: trigger.count(100) }) // running totals every 100 orders
 */
export function countTrigger(n: number, opts: { purge?: boolean } = {}): Trigger {
  if (!Number.isInteger(n) || n < 1) throw userError('SLUICE_BAD_OPTION', `trigger.count: n must be a positive integer, got ${n}`)
  const fire = opts.purge ? 'fire-purge' : 'fire'
  return {
    kind: 'count',
    describe: { kind: 'count', n, purge: opts.purge ?? false },
    onElement(_s, _e, ctx) {
      ctx.state++
      if (ctx.state < n) return 'continue'
      ctx.state = 0
      return fire
    },
    onEventTime: () => 'continue',
    onProcessingTime: () => 'continue',
  }
}

/**
 * Early (speculative) results every `every` of processing time while the window is open, then the final
 * result from `base` (event time by default). Early results are emitted as updates.
 * @example window.tumbling({ size: '1h' }), { trigger: trigger.early({ every: '1m' }) }
 */
export function earlyTrigger(opts: { every: Duration; base?: Trigger }): Trigger {
  const every = parseDuration(opts.every, 'trigger.early every', { allowZero: false })
  const base = opts.base ?? eventTimeTrigger()
  return {
    kind: 'early',
    describe: { kind: 'early', everyMs: every, base: base.describe },
    onElement(start, end, ctx) {
      // ctx.state holds the next early firing time (0 = none scheduled); the base trigger keeps no state of its own here.
      const r = base.onElement(start, end, { ...ctx, state: 0, registerEventTimer: ctx.registerEventTimer, registerProcessingTimer: ctx.registerProcessingTimer })
      if (ctx.state === 0 && r === 'continue') {
        ctx.state = ctx.now + every
        ctx.registerProcessingTimer(ctx.state)
      }
      return r
    },
    onEventTime: (time, start, end, ctx) => base.onEventTime(time, start, end, ctx),
    onProcessingTime(time, start, end, ctx) {
      const r = base.onProcessingTime(time, start, end, ctx)
      if (r !== 'continue') return r
      if (ctx.state !== 0 && time >= ctx.state) {
        ctx.state = time + every
        ctx.registerProcessingTimer(ctx.state)
        return 'fire'
      }
      return 'continue'
    },
    // The state is the next early firing time (0 = none): the merged window keeps the earlier one, whose timer is registered.
    mergeState: (a, b) => (a === 0 ? b : b === 0 ? a : Math.min(a, b)),
  }
}

/**
 * Built-in triggers: when a window emits. Each window assigner has a default (event time for time
 * windows); pass another in the window options.
 * @example stream.keyBy((c) => c.page).window(window.tumbling({ size: '1h' }), { trigger: trigger.early({ every: '1m' }) })
 */
export const trigger = { eventTime: eventTimeTrigger, processingTime: processingTimeTrigger, count: countTrigger, early: earlyTrigger, never: neverTrigger }
