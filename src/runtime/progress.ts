import type { InputProgress, StepMetricsJson } from '../core/metrics.ts'
import type { Progress } from './run-types.ts'

/** What each thread last reported that the progress line needs. */
export interface ProgressReport {
  steps: readonly StepMetricsJson[]
  /** Records its sources read, earlier runs included when resumed. */
  recordsIn: number
  watermark: number
}

/** Source steps are named `source-<connector>` by the pipeline builder. */
const isSource = (s: StepMetricsJson) => s.kind.startsWith('source-')

/**
 * The progress figures from the threads' last reports at processing time `now`: records in this run and in
 * total, the rate of this run, the sources' minimum watermark and its lag, and how far bounded sources have read.
 * @example progressOf([{ steps, recordsIn: 500, watermark: 0 }], Date.now(), 1000).recordsThisRun
 */
export function progressOf(reports: readonly ProgressReport[], now: number, elapsedMs: number): Progress {
  let recordsIn = 0
  let recordsThisRun = 0
  let watermark = Infinity
  let input: InputProgress | undefined
  for (const r of reports) {
    recordsIn += r.recordsIn
    if (r.watermark < watermark) watermark = r.watermark
    for (const s of r.steps) {
      if (!isSource(s)) continue
      recordsThisRun += s.in - (s.before ?? 0)
      if (s.input === undefined) continue
      input ??= { done: 0, total: 0, before: 0 }
      input.done += s.input.done
      input.total += s.input.total
      input.before += s.input.before
    }
  }
  return {
    recordsIn,
    recordsThisRun,
    recordsPerSecond: elapsedMs > 0 ? (recordsThisRun * 1000) / elapsedMs : 0,
    watermark,
    lagMs: Number.isFinite(watermark) ? now - watermark : NaN,
    elapsedMs,
    ...(input !== undefined ? { input } : {}),
  }
}
