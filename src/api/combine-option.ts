import { userError } from '../core/errors.ts'
import type { CombineWhen } from '../operators/aggregate/combiner.ts'

/**
 * Local pre-aggregation before a keyed exchange: `'auto'` (the default) for a combiner that folds records only
 * where an exchange follows it (parallelism > 1) and while keys repeat within batches, `true` for one that
 * always folds, `false` for none.
 * @example bids.keyBy((b) => b.auction).aggregate(agg.count(), { combine: false })
 */
export type CombineOption = boolean | 'auto'

/** Checks a `combine` option given at `where`. */
export function checkCombine(v: unknown, where: string): CombineOption | undefined {
  if (v === undefined || v === true || v === false || v === 'auto') return v
  throw userError('SLUICE_BAD_OPTION', `${where}: combine must be true, false or 'auto', got ${JSON.stringify(v) ?? String(v)}`)
}

/**
 * Whether a step gets a combiner, and when it folds: the step's own option, else the pipeline's, else 'auto'.
 * 'auto' combines only aggregates whose merge is exact (and, for windows, that the caller found combinable);
 * `true` on the pipeline combines every step that can have one, on a step that step.
 */
export function combineMode(step: CombineOption | undefined, pipeline: CombineOption | undefined, eligible: boolean): CombineWhen | 'off' {
  const option = step ?? pipeline ?? 'auto'
  if (option === false) return 'off'
  if (option === true) return 'always'
  return eligible ? 'exchange' : 'off'
}

/** How `describe` shows when a combiner folds records. */
export const foldsWhen = (when: CombineWhen): string => (when === 'always' ? 'always' : 'parallelism > 1')
