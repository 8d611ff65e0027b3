import type { QualityResult } from './window-checks.ts'

const seen = new Map<string, QualityResult[]>()
/** Per pipeline: how many results were ever noted (a cursor that survives the trimming to KEEP). */
const noted = new Map<string, number>()
/** Results kept per pipeline: the latest windows are what lineage and the catalog report. */
const KEEP = 10_000

/**
 * The quality results `expect` steps of `pipeline` emitted in this thread so far (the latest 10,000): what
 * lineage attaches to its events as data-quality facets. A run with worker threads sees those of every thread
 * (worker threads pass theirs on with their metrics reports, about once a second).
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
  noted.set(pipeline, (noted.get(pipeline) ?? 0) + results.length)
  if (l.length > KEEP) l.splice(0, l.length - KEEP)
}

/**
 * The results noted after cursor `since` (at most `limit`, the latest), and the cursor to ask from next: how a
 * worker thread passes its results on to the main thread.
 * @example const { results, next } = qualityResultsSince('bids', 0, 1000)
 */
export function qualityResultsSince(pipeline: string, since: number, limit: number): { results: QualityResult[]; next: number } {
  const next = noted.get(pipeline) ?? 0
  const l = seen.get(pipeline) ?? []
  const n = Math.min(next - since, l.length, limit)
  return { results: n > 0 ? l.slice(l.length - n) : [], next }
}

/** Forgets a pipeline's results (a new run starts). */
export function forgetQualityResults(pipeline: string): void {
  seen.delete(pipeline)
  noted.delete(pipeline)
}
