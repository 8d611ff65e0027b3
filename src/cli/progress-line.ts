import { formatCount } from '../core/format-count.ts'
import type { Progress } from '../runtime/run-types.ts'

/** Event time further behind the clock than this is historical data: its lag says nothing about the job. */
const historicalLagMs = 3_600_000

/** Where event time stood when the progress line first saw a watermark. */
export interface EventTimeStart {
  watermark: number
  elapsedMs: number
}

/**
 * One status line: records in, rate, percent done and ETA of bounded file sources, watermark, and how event
 * time moves. On live data that is the lag behind the clock; on historical data (more than an hour behind) it
 * is the event time covered since `start` and how many times faster than real time it goes, instead of a lag
 * of months. A resumed run shows what it read in this run and in total.
 */
export function formatProgress(p: Progress, start?: EventTimeStart): string {
  const wm = p.watermark === -Infinity ? 'none yet' : p.watermark === Infinity ? 'end of input' : new Date(p.watermark).toISOString()
  const records = p.recordsThisRun === p.recordsIn ? formatCount(p.recordsIn) : `${formatCount(p.recordsThisRun)} this run, ${formatCount(p.recordsIn)} in total`
  const done = inputProgress(p)
  const stuck = p.stuck === undefined ? '' : `  waiting ${formatDuration(p.stuck.ms)} on a write of '${p.stuck.step}'`
  return `records in ${records}  ${formatCount(Math.round(p.recordsPerSecond))}/s  ${done === '' ? '' : `${done}  `}watermark ${wm}  ${eventTimeProgress(p, start)}  (${formatDuration(p.elapsedMs)})${stuck}`
}


/** '42% done, ETA 1m10s' from the bytes read of the files' total, at this run's pace. */
function inputProgress(p: Progress): string {
  const input = p.input
  if (input === undefined || input.total <= 0) return ''
  const left = Math.max(0, input.total - input.done)
  if (left === 0) return '100% done'
  const percent = `${Math.floor((input.done * 100) / input.total)}% done`
  const read = input.done - input.before
  if (read <= 0 || p.elapsedMs <= 0) return `${percent}, ETA -`
  return `${percent}, ETA ${formatDuration((left * p.elapsedMs) / read)}`
}

function eventTimeProgress(p: Progress, start: EventTimeStart | undefined): string {
  if (!Number.isFinite(p.lagMs)) return 'lag -'
  if (p.lagMs <= historicalLagMs) return `lag ${formatDuration(p.lagMs)}`
  if (start === undefined || !Number.isFinite(p.watermark)) return 'historical data'
  const covered = p.watermark - start.watermark
  const wall = p.elapsedMs - start.elapsedMs
  const speed = wall > 0 ? covered / wall : 0
  return `event time +${formatDuration(covered)}${speed > 0 ? ` (${speed >= 10 ? formatCount(Math.round(speed)) : speed.toFixed(1)}x real time)` : ''}`
}

/** A duration for people: '850ms', '4.2s', '3m12s', '5h07m', '412d3h'. */
export function formatDuration(ms: number): string {
  const neg = ms < 0 ? '-' : ''
  const a = Math.abs(ms)
  if (a < 1000) return `${neg}${Math.round(a)}ms`
  if (a < 60_000) return `${neg}${(a / 1000).toFixed(1)}s`
  const s = Math.floor(a / 1000)
  if (s < 3600) return `${neg}${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86_400) return `${neg}${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
  return `${neg}${Math.floor(s / 86_400)}d${Math.floor(s / 3600) % 24}h`
}

/**
 * A status line redrawn in place on a terminal. `clear()` wipes it (before other output such as the
 * summary); it stays silent when `enabled` is false.
 */
export class ProgressLine {
  private readonly out: NodeJS.WriteStream
  private readonly enabled: boolean
  private shown = false
  private start: EventTimeStart | undefined

  constructor(out: NodeJS.WriteStream, enabled: boolean) {
    this.out = out
    this.enabled = enabled
  }

  update(p: Progress): void {
    if (!this.enabled) return
    if (this.start === undefined && Number.isFinite(p.watermark)) this.start = { watermark: p.watermark, elapsedMs: p.elapsedMs }
    let line = formatProgress(p, this.start)
    const cols = this.out.columns
    if (cols !== undefined && cols > 1 && line.length >= cols) line = line.slice(0, cols - 1)
    this.out.write(`\r\x1b[2K${line}`)
    this.shown = true
  }

  clear(): void {
    if (!this.shown) return
    this.out.write('\r\x1b[2K')
    this.shown = false
  }
}
