/**
 * An incremental aggregate: the window or table keeps only the accumulator, never the records.
 * `add` and `merge` may update the accumulator in place and return it. `retract` (optional) takes a
 * record back out, so the aggregate can consume a changelog.
 * @example
 * const longestUrl: AggregateFunction<Click, number, number> = {
 *   name: 'longestUrl', create: () => 0, add: (n, c) => Math.max(n, c.url.length), merge: (a, b) => Math.max(a, b), result: (n) => n,
 * }
 * clicks.keyBy((c) => c.page).aggregate(longestUrl)
 */
export interface AggregateFunction<T, A, R> {
  readonly name: string
  /**
   * `merge(a, b)` gives what adding b's records to `a` one by one would have given. Keyed aggregates and windows
   * of such an aggregate get a combiner before their exchange by default (see `combine`); every `agg.*` but
   * `reduce` (whose function may not be associative) says so.
   */
  readonly exactMerge?: boolean
  create(): A
  add(acc: A, value: T): A
  merge(a: A, b: A): A
  result(acc: A): R
  retract?(acc: A, value: T): A
}

/** The output type of an aggregate. */
export type AggResult<F> = F extends AggregateFunction<any, any, infer R> ? R : never
