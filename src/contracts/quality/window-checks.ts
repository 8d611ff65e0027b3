import { compileRules } from '../contract/rules.ts'
import { expectationName, type Bounds, type Expectation } from './expectations.ts'
import { KllSketch } from './kll.ts'

/**
 * One expectation's result for one window: what the `quality` output carries and the report shows.
 * @example
 * bids.expect([expect.rowCount({ min: 1 })], { window: '1m' })
 *   .sideOutput<QualityResult>('quality').filter((r) => !r.passed).to(sink.jsonl('out/quality-failures.jsonl'))
 */
export interface QualityResult {
  step: string
  expectation: string
  kind: Expectation['kind']
  field: string | null
  severity: string
  /** The window, epoch ms; both null for a check over the whole run. */
  windowStart: number | null
  windowEnd: number | null
  passed: boolean
  /** Records (or values) the check looked at, and those that failed it (record checks and referential). */
  checked: number
  failed: number
  /**
   * The figures judged: count, maxLagMs, mean, stddev, quantiles as `p50`..., each null when there were none;
   * with a distribution's baseline, its figures as `baselineMean`, `baselineStddev`, `baselineP50`...
   */
  observed: Record<string, number | null>
}

/** The per-window state of one expectation: plain data in a snapshot. */
export interface Acc {
  checked: number
  failed: number
  seen?: Set<unknown>
  sketch?: KllSketch
  mean?: number
  m2?: number
  maxLag?: number
  keys?: unknown[]
  times?: number[]
}

/** Reads a field by path (`a.b`), null-safe. */
export function getter(path: string): (v: unknown) => unknown {
  const parts = path.split('.')
  if (parts.length === 1) return (v) => (v === null || v === undefined ? undefined : (v as Record<string, unknown>)[path])
  return (v) => parts.reduce<unknown>((o, k) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[k]), v)
}

/** A record check (notNull, inRange, inSet, pattern) as a predicate: true when the record passes. */
export function recordPredicate(e: Expectation): (v: unknown) => boolean {
  const fn = compileRules([{ ...(e as object), rule: e.kind } as never])
  return (v) => fn(v) < 0
}

export function newAcc(e: Expectation): Acc {
  if (e.kind === 'unique') return { checked: 0, failed: 0, seen: new Set() }
  if (e.kind === 'distribution') return { checked: 0, failed: 0, sketch: new KllSketch(), mean: 0, m2: 0 }
  if (e.kind === 'freshness') return { checked: 0, failed: 0, maxLag: -Infinity }
  if (e.kind === 'referential') return { checked: 0, failed: 0, keys: [], times: [] }
  return { checked: 0, failed: 0 }
}

/** Adds a number to a distribution's state (Welford's update: a stable mean and variance in one pass). */
export function addToDistribution(a: Acc, x: number): void {
  a.checked++
  const d = x - a.mean!
  a.mean! += d / a.checked
  a.m2! += d * (x - a.mean!)
  a.sketch!.add(x)
}

const inBounds = (x: number | null, b: Bounds | undefined) => b === undefined || (x !== null && (b.min === undefined || x >= b.min) && (b.max === undefined || x <= b.max))

/** The figures a distribution is compared with: its fixed baseline, or the previous window's observed ones. */
function baselineOf(e: Extract<Expectation, { kind: 'distribution' }>, previous: Record<string, number | null> | undefined): Record<string, number | null> | undefined {
  if (e.baseline === undefined) return undefined
  if (e.baseline === 'previous') {
    if (previous === undefined) return undefined
    const out: Record<string, number | null> = { mean: previous.mean ?? null, stddev: previous.stddev ?? null }
    for (const q of Object.keys(e.quantiles ?? {})) out[quantileKey(q)] = previous[quantileKey(q)] ?? null
    return out
  }
  const out: Record<string, number | null> = {}
  if (e.baseline.mean !== undefined) out.mean = e.baseline.mean
  if (e.baseline.stddev !== undefined) out.stddev = e.baseline.stddev
  for (const [q, v] of Object.entries(e.baseline.quantiles ?? {})) out[quantileKey(q)] = v
  return out
}

/** The name of a quantile's figure in `observed`: `p50` for `'0.5'`. */
function quantileKey(q: string): string {
  return `p${Number(q) * 100}`
}

/**
 * Judges a window's state; `rowCount` is the window's record count, `previous` the observed figures of the
 * same expectation's previous window (a distribution with `baseline: 'previous'` is compared with them).
 */
export function judge(e: Expectation, a: Acc, rowCount: number, maxLagMs: number, previous?: Record<string, number | null>): { passed: boolean; observed: Record<string, number | null> } {
  switch (e.kind) {
    case 'rowCount':
      return { passed: inBounds(rowCount, e), observed: { count: rowCount } }
    case 'freshness': {
      const lag = a.maxLag === -Infinity ? null : a.maxLag!
      return { passed: lag === null || lag <= maxLagMs, observed: { maxLagMs: lag } }
    }
    case 'distribution': {
      const n = a.checked
      const mean = n === 0 ? null : a.mean!
      const stddev = n < 2 ? null : Math.sqrt(a.m2! / (n - 1))
      const observed: Record<string, number | null> = { count: n, mean, stddev }
      let passed = inBounds(mean, e.mean) && inBounds(stddev, e.stddev)
      for (const [q, b] of Object.entries(e.quantiles ?? {})) {
        const v = a.sketch!.quantile(Number(q))
        observed[quantileKey(q)] = v
        passed &&= inBounds(v, b)
      }
      const base = baselineOf(e, previous)
      if (base !== undefined && n > 0) {
        const tolerance = e.tolerance ?? 0.1
        for (const [k, b] of Object.entries(base)) {
          if (observed[k] === undefined) observed[k] = k.startsWith('p') ? a.sketch!.quantile(Number(k.slice(1)) / 100) : null
          observed[`baseline${k[0].toUpperCase()}${k.slice(1)}`] = b
          const v = observed[k]
          // A figure neither side has (a standard deviation of one value) is not judged.
          if (b !== null && v !== null) passed &&= Math.abs(v - b) <= tolerance * Math.abs(b)
        }
      }
      return { passed: n === 0 ? true : passed, observed }
    }
    default:
      return { passed: a.failed === 0, observed: { checked: a.checked, failed: a.failed } }
  }
}

export function result(step: string, e: Expectation, a: Acc, rowCount: number, start: number | null, end: number | null, maxLagMs = Infinity, previous?: Record<string, number | null>): QualityResult {
  const { passed, observed } = judge(e, a, rowCount, maxLagMs, previous)
  return {
    step,
    expectation: expectationName(e),
    kind: e.kind,
    field: 'field' in e && e.field !== undefined ? e.field : null,
    severity: e.severity ?? 'warn',
    windowStart: start,
    windowEnd: end,
    passed,
    checked: e.kind === 'rowCount' ? rowCount : a.checked,
    failed: a.failed,
    observed,
  }
}

export function snapshotAcc(a: Acc): unknown {
  return { ...a, seen: a.seen === undefined ? undefined : [...a.seen], sketch: a.sketch?.snapshot() }
}

export function restoreAcc(d: any): Acc {
  return { ...d, seen: d.seen === undefined ? undefined : new Set(d.seen), sketch: d.sketch === undefined ? undefined : KllSketch.restore(d.sketch) }
}
