import type { Progress } from '../runtime/run-types.ts'

/** One status line: records in, rate, watermark and lag. */
export function formatProgress(p: Progress): string {
  const wm = p.watermark === -Infinity ? 'none yet' : p.watermark === Infinity ? 'end of input' : new Date(p.watermark).toISOString()
  const lag = Number.isFinite(p.lagMs) ? formatDuration(p.lagMs) : '-'
  return `records in ${p.recordsIn.toLocaleString('en-US')}  ${Math.round(p.recordsPerSecond).toLocaleString('en-US')}/s  watermark ${wm}  lag ${lag}  (${formatDuration(p.elapsedMs)})`
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

  constructor(out: NodeJS.WriteStream, enabled: boolean) {
    this.out = out
    this.enabled = enabled
  }

  update(p: Progress): void {
    if (!this.enabled) return
    let line = formatProgress(p)
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
