import { Cron } from 'croner'
import { userError } from '../core/errors.ts'

/**
 * When a workflow is due: `next(after)` is the first tick strictly after `after` (epoch ms).
 * @example
 * const s: Schedule = cron('5 * * * *')
 * new Date(s.next(Date.UTC(2026, 0, 1))!).toISOString() // '2026-01-01T00:05:00.000Z'
 */
export interface Schedule {
  readonly description: string
  next(after: number): number | undefined
}

/**
 * What to do with ticks missed while the scheduler was down: run each of them, or only the latest.
 * @example workflow('report', { schedule: cron('0 6 * * *'), catchUp: 'latest' }) // after a week down: one run, not seven
 */
export type CatchUp = 'all' | 'latest'

/**
 * A cron schedule, in a time zone (IANA name, default UTC), parsed by croner.
 * @example cron('5 * * * *', { timezone: 'Europe/Paris' }) // five past every hour, Paris time
 */
export function cron(expression: string, opts: { timezone?: string } = {}): Schedule {
  let job: Cron
  try {
    job = new Cron(expression, { paused: true, timezone: opts.timezone ?? 'UTC' })
  } catch (e) {
    throw userError('SLUICE_WORKFLOW_INVALID', `invalid cron schedule '${expression}'`, { cause: e, hint: "five or six fields, e.g. '0 * * * *'" })
  }
  return {
    description: `cron '${expression}'${opts.timezone ? ` in ${opts.timezone}` : ''}`,
    next: (after) => job.nextRun(new Date(after))?.getTime(),
  }
}

/**
 * A fixed interval, aligned on `anchor` (epoch ms, default 0: so `every(3_600_000)` ticks on the hour).
 * @example every(15 * 60_000)
 */
export function every(ms: number, opts: { anchor?: number } = {}): Schedule {
  if (!Number.isFinite(ms) || ms <= 0) throw userError('SLUICE_WORKFLOW_INVALID', `an interval must be a positive number of ms, got ${ms}`)
  const anchor = opts.anchor ?? 0
  return { description: `every ${ms} ms`, next: (after) => anchor + (Math.floor((after - anchor) / ms) + 1) * ms }
}

/**
 * The ticks due in (`last`, `now`], applying the catch-up policy; at most `limit` of them.
 * @example dueTicks(every(3_600_000), Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1, 5), 'all') // the five hourly ticks after midnight
 */
export function dueTicks(schedule: Schedule, last: number, now: number, catchUp: CatchUp, limit = 10_000): number[] {
  const ticks: number[] = []
  for (let t = schedule.next(last); t !== undefined && t <= now && ticks.length < limit; t = schedule.next(t)) ticks.push(t)
  return catchUp === 'latest' ? ticks.slice(-1) : ticks
}
