import { parseDuration, type Duration } from '../../core/duration.ts'
import { SluiceError } from '../../core/errors.ts'
import { userError } from '../../core/errors.ts'
import type { Trigger } from './triggers.ts'
import { countTrigger, eventTimeTrigger, neverTrigger, processingTimeTrigger } from './triggers.ts'

export type TimeDomain = 'event' | 'processing'

/**
 * Decides which windows a record belongs to. Windows are half-open `[start, end)`.
 * `assign` pushes start/end pairs into `out` (cleared by the caller) so no object is made per record.
 * @example
 * const w: WindowAssigner = window.sliding({ size: '10s', slide: '2s' })
 * w.merging // false; true for window.session
 */
export interface WindowAssigner {
  readonly kind: string
  readonly time: TimeDomain
  /** Session-like assigners: windows of one key that touch are merged. */
  readonly merging: boolean
  readonly describe: Record<string, unknown>
  assign(ts: number, out: number[]): void
  /** The trigger used when the user sets none. */
  defaultTrigger(): Trigger
  /**
   * What the end of a bounded input does to windows that have not fired: `fire` them (the default),
   * `drop` them (counted as dropped), or fire them marked `incomplete` (count windows).
   */
  readonly atEnd?: 'fire' | 'drop' | 'fire-incomplete'
  /**
   * The windows have no bounds of their own (count windows): a result's `start` and `end` are the
   * event-time span of its records, `[first, last + 1)`.
   */
  readonly boundsFromRecords?: boolean
  /**
   * Panes: spans of `paneSize` starting at `paneStart(ts)` whose every instant belongs to the same windows
   * (sliding windows whose size is a multiple of their slide). A combiner folds records per pane, so a record
   * makes one partial however many windows it falls in, and the window step merges it into each of them.
   */
  readonly paneSize?: number
  paneStart?(ts: number): number
  /**
   * Set when the options were invalid: the step that uses the assigner reports it with its own id
   * (an assigner is built before it belongs to a step).
   */
  readonly invalid?: SluiceError
}

/** Builds an assigner; invalid options give an assigner carrying the error, thrown by the step that uses it. */
function checked(kind: string, build: () => WindowAssigner): WindowAssigner {
  try {
    return build()
  } catch (e) {
    if (!(e instanceof SluiceError)) throw e
    const fail = (): never => {
      throw e
    }
    return { kind, time: 'event', merging: false, describe: { kind, invalid: e.message }, assign: fail, defaultTrigger: fail, invalid: e }
  }
}

/** Throws the assigner's option error, naming the step that uses it. */
export function checkAssigner(assigner: WindowAssigner, step: string): void {
  const e = assigner.invalid
  if (e !== undefined) throw new SluiceError(e.code, `step '${step}': ${e.message}`, { domain: 'user', step, ...(e.hint !== undefined ? { hint: e.hint } : {}) })
}

export interface TimeWindowOptions {
  /** Event time (default) or processing time, chosen explicitly. */
  time?: TimeDomain
  /** Shifts window boundaries, e.g. '-8h' for days in a time zone; default 0. */
  offset?: Duration
}

const defaultFor = (time: TimeDomain): (() => Trigger) => (time === 'event' ? eventTimeTrigger : processingTimeTrigger)

function windowStart(ts: number, size: number, offset: number): number {
  const r = (ts - offset) % size
  return ts - (r < 0 ? r + size : r)
}

/** Fixed-size, non-overlapping windows. @example window.tumbling({ size: '1m' }) */
function tumbling(opts: { size: Duration } & TimeWindowOptions): WindowAssigner {
  return checked('tumbling', () => {
    const size = parseDuration(opts.size, 'window.tumbling size', { allowZero: false })
    const offset = parseDuration(opts.offset ?? 0, 'window.tumbling offset', { allowNegative: true })
    const time = opts.time ?? 'event'
    return {
      kind: 'tumbling',
      time,
      merging: false,
      describe: { kind: 'tumbling', sizeMs: size, offsetMs: offset, time },
      assign(ts, out) {
        const start = windowStart(ts, size, offset)
        out.push(start, start + size)
      },
      defaultTrigger: defaultFor(time),
    }
  })
}

/** Windows of `size` starting every `slide`; a record belongs to size/slide of them. @example window.sliding({ size: '10s', slide: '2s' }) */
function sliding(opts: { size: Duration; slide: Duration } & TimeWindowOptions): WindowAssigner {
  return checked('sliding', () => {
    const size = parseDuration(opts.size, 'window.sliding size', { allowZero: false })
    const slide = parseDuration(opts.slide, 'window.sliding slide', { allowZero: false })
    const offset = parseDuration(opts.offset ?? 0, 'window.sliding offset', { allowNegative: true })
    if (slide > size) throw userError('SLUICE_BAD_OPTION', `window.sliding: slide (${slide} ms) must not exceed size (${size} ms)`)
    const time = opts.time ?? 'event'
    return {
      kind: 'sliding',
      time,
      merging: false,
      describe: { kind: 'sliding', sizeMs: size, slideMs: slide, offsetMs: offset, time },
      assign(ts, out) {
        const last = windowStart(ts, slide, offset)
        for (let start = last; start > ts - size; start -= slide) out.push(start, start + size)
      },
      defaultTrigger: defaultFor(time),
      // Whatever its instant in `[start, start + slide)`, a record falls in the windows starting at start, start - slide, ...
      ...(size % slide === 0 ? { paneSize: slide, paneStart: (ts: number) => windowStart(ts, slide, offset) } : {}),
    }
  })
}

/**
 * Sessions: activity separated by at least `gap` of silence. A record opens `[ts, ts + gap)`, and windows
 * of one key that overlap or touch merge, so a session grows backward and forward as records arrive.
 * @example window.session({ gap: '30m' })
 */
function session(opts: { gap: Duration; time?: TimeDomain }): WindowAssigner {
  return checked('session', () => {
    const gap = parseDuration(opts.gap, 'window.session gap', { allowZero: false })
    const time = opts.time ?? 'event'
    return {
      kind: 'session',
      time,
      merging: true,
      describe: { kind: 'session', gapMs: gap, time },
      assign(ts, out) {
        out.push(ts, ts + gap)
      },
      defaultTrigger: defaultFor(time),
    }
  })
}

/**
 * One window per key spanning all time; fires only through a trigger (or at the end of a bounded input). Its
 * results' `start` and `end` are -Infinity and Infinity, which JSON (the JSONL sink, `--json`) writes as null.
 * @example stream.keyBy((o) => o.country).window(window.global(), { trigger: trigger.count(100) })
 */
function global(): WindowAssigner {
  return {
    kind: 'global',
    time: 'event',
    merging: false,
    describe: { kind: 'global' },
    assign(_ts, out) {
      out.push(-Infinity, Infinity)
    },
    defaultTrigger: neverTrigger,
  }
}

export interface CountWindowOptions {
  /**
   * Fire the windows that hold fewer than `size` records when a bounded input ends, with
   * `incomplete: true` on their results. Default false: they are dropped (as in Flink) and counted in the
   * step's `dropped` metric.
   */
  fireIncompleteAtEnd?: boolean
}

/**
 * Every `size` records of a key form a window (a global window with a purging count trigger). A result's
 * `start` and `end` are the event-time span of its records, `[first, last + 1)`.
 * @example window.count(100)                                // windows of 100 records; a remainder at the end is dropped
 * @example window.count(100, { fireIncompleteAtEnd: true }) // the remainder fires, marked `incomplete: true`
 */
function count(size: number, opts: CountWindowOptions = {}): WindowAssigner {
  return checked('count', () => {
    if (!Number.isInteger(size) || size < 1) throw userError('SLUICE_BAD_OPTION', `window.count: size must be a positive integer, got ${size}`)
    const atEnd = opts.fireIncompleteAtEnd === true ? 'fire-incomplete' : 'drop'
    return {
      ...global(),
      kind: 'count',
      describe: { kind: 'count', size, atEnd },
      defaultTrigger: () => countTrigger(size, { purge: true }),
      atEnd,
      boundsFromRecords: true,
    }
  })
}

/**
 * Built-in window assigners: which windows a record belongs to.
 * @example stream.keyBy((c) => c.page).window(window.tumbling({ size: '1m' })).count()
 */
export const window = { tumbling, sliding, session, global, count }
