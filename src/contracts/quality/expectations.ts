import type { Duration } from '../../core/duration.ts'
import type { StepNode } from '../../plan/graph.ts'

/** A stream of the same pipeline, as a referential expectation needs it (any `Stream` is one). */
export interface StreamRef {
  readonly pipeline: unknown
  readonly node: StepNode
}

/**
 * What a failed expectation does: `warn` reports it, `drop` also sends the record to the error path, `fail` stops the job.
 * @example expect.notNull('bidder', 'drop') // 'warn' (the default) reports, 'drop' also drops the record, 'fail' stops the job
 */
export type Severity = 'warn' | 'drop' | 'fail'

/**
 * Bounds of an observed figure; either may be left out.
 * @example expect.rowCount({ min: 1, max: 1_000_000 })
 */
export interface Bounds {
  min?: number
  max?: number
}

/**
 * Figures a window's distribution is compared with: its mean, standard deviation and quantiles (by rank, e.g.
 * `'0.9'`) must each lie within `tolerance` (relative) of these.
 * @example { mean: 480, stddev: 120, quantiles: { '0.5': 450 } }
 */
export interface DistributionBaseline {
  mean?: number
  stddev?: number
  quantiles?: Record<string, number>
}

/**
 * Options of `expect.distribution`: bounds of its figures, or a baseline to stay near.
 * @example { mean: { min: 10 }, baseline: { mean: 480, stddev: 120 }, tolerance: 0.05 }
 */
export interface DistributionOptions {
  mean?: Bounds
  stddev?: Bounds
  /** Bounds of quantiles by rank (`'0.99'`), from a KLL sketch. */
  quantiles?: Record<string, Bounds>
  /**
   * Figures to compare with: fixed ones, or `'previous'`, the previous window's mean, standard deviation and
   * the quantiles named in `quantiles` (a drift check; the first window has none and passes).
   */
  baseline?: DistributionBaseline | 'previous'
  /** How far (relative to the baseline's figure) a figure may be from it; default 0.1. */
  tolerance?: number
  /** The results' name (default `<field>:distribution`): give one when a field has two distribution checks. */
  name?: string
}

interface Common {
  /** How results are named; default `<field>:<kind>` (or `<kind>`). */
  name?: string
  severity?: Severity
}

/**
 * One expectation on a stream, as plain data (the step's description shows it).
 * @example
 * const checks: Expectation[] = [expect.notNull('bidder'), expect.inRange('price', { min: 1 }, 'drop')]
 * bids.expect(checks, { window: '1m' })
 */
export type Expectation =
  | (Common & { kind: 'notNull'; field: string })
  | (Common & { kind: 'inRange'; field: string; min?: number; max?: number })
  | (Common & { kind: 'inSet'; field: string; values: readonly (string | number | boolean)[] })
  | (Common & { kind: 'pattern'; field: string; pattern: string })
  | (Common & { kind: 'unique'; field: string })
  | (Common & { kind: 'rowCount'; min?: number; max?: number })
  | (Common & { kind: 'freshness'; maxLag: Duration; field?: string })
  | (Common & { kind: 'distribution'; field: string; mean?: Bounds; stddev?: Bounds; quantiles?: Record<string, Bounds>; baseline?: DistributionBaseline | 'previous'; tolerance?: number })
  | (Common & { kind: 'referential'; field: string; within: Duration; otherField: string; other?: StreamRef })

/** Kinds checked on each record: a record that fails may be dropped. The others judge a whole window. */
export const RECORD_KINDS: ReadonlySet<Expectation['kind']> = new Set(['notNull', 'inRange', 'inSet', 'pattern', 'unique'])

export function expectationName(e: Expectation): string {
  return e.name ?? ('field' in e && e.field !== undefined ? `${e.field}:${e.kind}` : e.kind)
}

/**
 * Builders of expectations for `stream.expect`. Record checks (`notNull`, `inRange`, `inSet`, `pattern`,
 * `unique`) may `drop` the records that fail; window checks (`rowCount`, `freshness`, `distribution`,
 * `referential`) `warn` or `fail`. Null values pass every record check but `notNull`.
 * @example stream.expect([expect.notNull('bidder'), expect.inRange('price', { min: 1 }, 'drop'), expect.rowCount({ min: 1 })], { window: '1m' })
 */
export const expect = {
  /** The field is present and not null. @example expect.notNull('bidder') */
  notNull: (field: string, severity: Severity = 'warn'): Expectation => ({ kind: 'notNull', field, severity }),
  /** A number within [min, max]. @example expect.inRange('price', { min: 1, max: 1e9 }, 'drop') */
  inRange: (field: string, b: Bounds, severity: Severity = 'warn'): Expectation => ({ kind: 'inRange', field, ...b, severity }),
  /** One of the given values. @example expect.inSet('channel', ['web', 'app']) */
  inSet: (field: string, values: readonly (string | number | boolean)[], severity: Severity = 'warn'): Expectation => ({ kind: 'inSet', field, values, severity }),
  /** A string matching a regular expression. @example expect.pattern('url', '^https://') */
  pattern: (field: string, pattern: string, severity: Severity = 'warn'): Expectation => ({ kind: 'pattern', field, pattern, severity }),
  /** No value twice within a window (or the whole run without one); `drop` drops the repeats. @example expect.unique('id', 'drop') */
  unique: (field: string, severity: Severity = 'warn'): Expectation => ({ kind: 'unique', field, severity }),
  /** Records per window within bounds. @example expect.rowCount({ min: 100 }) */
  rowCount: (b: Bounds, severity: Exclude<Severity, 'drop'> = 'warn'): Expectation => ({ kind: 'rowCount', ...b, severity }),
  /**
   * Event-time lag: how long after its event time a record arrived (processing time, or the time in `field`)
   * stays under `maxLag`, at its maximum over the window. @example expect.freshness({ maxLag: '5m' })
   */
  freshness: (o: { maxLag: Duration; field?: string }, severity: Exclude<Severity, 'drop'> = 'warn'): Expectation => ({ kind: 'freshness', ...o, severity }),
  /**
   * Each record's key (`field`) was seen on `other` (its `otherField`) at most `within` before the record's
   * event time; judged per window once the watermark passes it. @example expect.referential('auction', auctions, { otherField: 'id', within: '1h' })
   */
  referential: (field: string, other: StreamRef, o: { otherField: string; within: Duration }, severity: Exclude<Severity, 'drop'> = 'warn'): Expectation => ({ kind: 'referential', field, other, ...o, severity }),
  /**
   * Mean, standard deviation and quantiles of a numeric field per window, within bounds or near a baseline
   * (fixed figures, or the previous window's); quantiles come from a KLL sketch (rank error about 1.7%).
   * @example expect.distribution('price', { mean: { min: 10 }, quantiles: { '0.99': { max: 1e6 } }, baseline: 'previous', tolerance: 0.2 })
   */
  distribution: (field: string, o: DistributionOptions, severity: Exclude<Severity, 'drop'> = 'warn'): Expectation => ({ kind: 'distribution', field, ...o, severity }),
}
