import type { InputProgress } from '../core/metrics.ts'
import type { MetricsSnapshot } from '../observe/metrics/registry.ts'
import { isSource, summaryTotals } from '../observe/metrics/summary-view.ts'
import type { Progress } from './run-types.ts'

/**
 * The progress line's figures from a metrics snapshot: records in this run and in total, the rate of this run
 * over `elapsedMs`, the sources' minimum watermark and its lag behind the snapshot's time (NaN while it is not
 * finite), and how far bounded sources have read.
 * @example onProgress(progressOf(registry.snapshot(), performance.now() - started))
 */
export function progressOf(s: MetricsSnapshot, elapsedMs: number): Progress {
  const { recordsIn, watermark } = summaryTotals(s)
  let recordsThisRun = 0
  let input: InputProgress | undefined
  for (const t of s.steps) {
    if (!isSource(t)) continue
    recordsThisRun += t.recordsIn - t.recordsBefore
    if (t.input === undefined) continue
    input ??= { done: 0, total: 0, before: 0 }
    input.done += t.input.done
    input.total += t.input.total
    input.before += t.input.before
  }
  return {
    recordsIn,
    recordsThisRun,
    recordsPerSecond: elapsedMs > 0 ? (recordsThisRun * 1000) / elapsedMs : 0,
    watermark,
    lagMs: Number.isFinite(watermark) ? s.takenAt - watermark : NaN,
    elapsedMs,
    ...(input !== undefined ? { input } : {}),
  }
}
