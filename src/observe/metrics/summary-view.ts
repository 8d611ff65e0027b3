import type { StepMetricsJson } from '../../core/metrics.ts'
import type { MetricsSnapshot, StepTotals } from './registry.ts'

/**
 * The run summary's rows (records in and out, late, errors, dropped per step) read from a metrics snapshot:
 * the same form as `StepMetrics.toJSON()`, one row per step over all its subtasks.
 * @example formatSummary({ ...summary, steps: summaryRows(registry.snapshot()) })
 */
export function summaryRows(s: MetricsSnapshot): StepMetricsJson[] {
  return s.steps.map(rowOf)
}

/**
 * The job-wide figures of the run summary: records read by the sources, the sources' minimum watermark, and
 * late, errors and dropped over all steps.
 */
export function summaryTotals(s: MetricsSnapshot): { recordsIn: number; watermark: number; late: number; errors: number; dropped: number } {
  let recordsIn = 0
  let watermark = Infinity
  let sources = 0
  let late = 0
  let errors = 0
  let dropped = 0
  for (const t of s.steps) {
    if (isSource(t)) {
      sources++
      recordsIn += t.recordsIn
      watermark = Math.min(watermark, t.watermark)
    }
    late += t.late
    errors += t.errors
    dropped += t.dropped
  }
  return { recordsIn, watermark: sources === 0 ? -Infinity : watermark, late, errors, dropped }
}

function rowOf(t: StepTotals): StepMetricsJson {
  return {
    step: t.step,
    kind: t.kind,
    in: t.recordsIn,
    out: t.recordsOut,
    late: t.late,
    errors: t.errors,
    dropped: t.dropped,
    ...(t.retries > 0 ? { retries: t.retries } : {}),
    ...(t.violations !== undefined ? { violations: { ...t.violations } } : {}),
    ...(t.quality !== undefined ? { quality: structuredClone(t.quality) } : {}),
  }
}

/** Source steps are named `source-<connector>` by the pipeline builder. */
export function isSource(t: Pick<StepTotals, 'kind'>): boolean {
  return t.kind.startsWith('source-')
}
