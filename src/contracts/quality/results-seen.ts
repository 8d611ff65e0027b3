import type { QualityResult } from './window-checks.ts'

const seen = new Map<string, QualityResult[]>()
/** Results kept per pipeline: the latest windows are what lineage and the catalog report. */
const KEEP = 10_000

/**
 * The quality results `expect` steps of `pipeline` emitted in this thread so far (the latest 10,000): what
 * lineage attaches to its events as data-quality facets. A run with worker threads sees those of the main thread.
 * @example qualityResultsSeen('bids').filter((r) => !r.passed)
 */
export function qualityResultsSeen(pipeline: string): readonly QualityResult[] {
  return seen.get(pipeline) ?? []
}

/** Notes results an `expect` step emitted. */
export function noteQualityResults(pipeline: string, results: readonly QualityResult[]): void {
  let l = seen.get(pipeline)
  if (l === undefined) seen.set(pipeline, (l = []))
  l.push(...results)
  if (l.length > KEEP) l.splice(0, l.length - KEEP)
}

/** Forgets a pipeline's results (a new run starts). */
export function forgetQualityResults(pipeline: string): void {
  seen.delete(pipeline)
}
