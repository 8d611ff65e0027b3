import { parseDuration } from '../core/duration.ts'
import { SluiceError } from '../core/errors.ts'

const DAY = 86_400_000
/** The default of a source's `maxFutureSkew`: generous enough for clocks that disagree, short of a wrong year. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = DAY
/** Watermark jumps worth a warning in the summary. */
export const WATERMARK_JUMP_MS = DAY
const MAX_WARNINGS = 5

/**
 * A source's guards on event time: records stamped further ahead of the clock than `maxFutureSkew` are sent
 * to the error path (one year-3000 timestamp would otherwise carry the watermark ahead and make everything
 * after it late), and a watermark that jumps by more than a day at once is noted for the run summary.
 */
export class EventTimeGuard {
  private readonly step: string
  readonly skewMs: number
  /** Summary warnings (the first few; `jumps` counts them all). */
  readonly warnings: string[] = []
  jumps = 0

  constructor(step: string, maxFutureSkew: number | string | false | undefined) {
    this.step = step
    this.skewMs = maxFutureSkew === false ? Infinity : maxFutureSkew === undefined ? DEFAULT_MAX_FUTURE_SKEW_MS : parseDuration(maxFutureSkew, `source '${step}' maxFutureSkew`, { allowZero: true })
  }

  /** The error for a record whose event time is `aheadMs` past the clock. */
  future(aheadMs: number): SluiceError {
    return new SluiceError('SLUICE_EVENT_TIME_IN_FUTURE', `source '${this.step}': the record's event time is ${span(aheadMs)} ahead of the clock, more than maxFutureSkew (${span(this.skewMs)})`, {
      step: this.step,
      hint: "fix the record's timestamp; or raise the source's maxFutureSkew (false turns the guard off) if such times are expected",
    })
  }

  /** The source's watermark moves from `from` to `to`. */
  moved(from: number, to: number): void {
    if (!Number.isFinite(from) || !Number.isFinite(to) || to - from <= WATERMARK_JUMP_MS) return
    this.jumps++
    if (this.warnings.length < MAX_WARNINGS) {
      this.warnings.push(`source '${this.step}': the watermark jumped by ${span(to - from)} at once (to ${new Date(to).toISOString()}); records older than that are late from then on`)
    }
  }
}

function span(ms: number): string {
  if (ms >= 2 * DAY) return `${Math.floor(ms / DAY)} days`
  if (ms >= 2 * 3_600_000) return `${Math.floor(ms / 3_600_000)} hours`
  if (ms >= 2 * 60_000) return `${Math.floor(ms / 60_000)} minutes`
  return `${Math.round(ms / 1000)} s`
}
