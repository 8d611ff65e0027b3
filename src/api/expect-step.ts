import type { Duration } from '../core/duration.ts'
import { parseDuration } from '../core/duration.ts'
import { DEFAULT_KEY_GROUPS } from '../core/key.ts'
import { userError } from '../core/errors.ts'
import type { Stream } from './stream.ts'
import { RECORD_KINDS, expectationName, type Expectation } from '../contracts/quality/expectations.ts'
import { ExpectOperator, QUALITY_OUTPUT } from '../contracts/quality/expect-operator.ts'

/**
 * Options of an `expect` step.
 * @example bids.expect([expect.rowCount({ min: 1 })], { window: '5m' }) // one row count per 5 minutes
 */
export interface ExpectOptions {
  /** Tumbling event-time windows of this size; default one result per expectation for the whole run. */
  window?: Duration
}

const kinds = new Set(['notNull', 'inRange', 'inSet', 'pattern', 'unique', 'rowCount', 'freshness', 'distribution', 'referential'])

/** Adds an `expect` step after `stream` (see `Stream.expect`). */
export function addExpectStep<T>(stream: Stream<T>, expectations: readonly Expectation[], options: ExpectOptions): Stream<T> {
  const p = stream.pipeline
  const where = `expect (after step '${stream.node.id}')`
  if (!Array.isArray(expectations) || expectations.length === 0) throw userError('SLUICE_BAD_ARGUMENT', `${where} needs a list of expectations`, { hint: "use the builders of 'expect', e.g. expect.notNull('id')" })
  const others = new Set<Stream<any>>()
  for (const e of expectations) {
    if (e === null || typeof e !== 'object' || !kinds.has(e.kind)) throw userError('SLUICE_BAD_ARGUMENT', `${where}: not an expectation`, { hint: "use the builders of 'expect'" })
    if (e.severity !== undefined && !['warn', 'drop', 'fail'].includes(e.severity)) throw userError('SLUICE_BAD_ARGUMENT', `${where}: severity must be 'warn', 'drop' or 'fail'`)
    if (e.severity === 'drop' && !RECORD_KINDS.has(e.kind)) throw userError('SLUICE_BAD_ARGUMENT', `${where}: '${expectationName(e)}' judges whole windows and cannot drop records; use 'warn' or 'fail'`)
    if (e.kind === 'distribution') {
      if (e.tolerance !== undefined && !(typeof e.tolerance === 'number' && e.tolerance >= 0)) throw userError('SLUICE_BAD_ARGUMENT', `${where}: '${expectationName(e)}' tolerance must be a number >= 0 (0.1: within 10% of the baseline)`)
      if (e.baseline === 'previous' && options.window === undefined) throw userError('SLUICE_BAD_ARGUMENT', `${where}: '${expectationName(e)}' compares each window with the previous one: give the step a window`, { hint: "e.g. .expect([...], { window: '1m' })" })
      const b = e.baseline
      if (b !== undefined && b !== 'previous' && (b === null || typeof b !== 'object' || ![b.mean, b.stddev, ...Object.values(b.quantiles ?? {})].every((x) => x === undefined || Number.isFinite(x)))) throw userError('SLUICE_BAD_ARGUMENT', `${where}: '${expectationName(e)}' baseline must be 'previous' or figures { mean, stddev, quantiles } as numbers`)
    }
    if (e.kind === 'referential') {
      if (e.other === undefined || typeof (e.other as { derive?: unknown }).derive !== 'function' || e.other.pipeline !== p) throw userError('SLUICE_BAD_ARGUMENT', `${where}: a referential expectation needs a stream of pipeline '${p.name}'`)
      others.add(e.other)
    }
  }
  if (others.size > 1) throw userError('SLUICE_BAD_ARGUMENT', `${where}: referential expectations of one step must all refer to the same stream`, { hint: 'add another expect step for another stream' })
  const windowMs = options.window === undefined ? undefined : parseDuration(options.window, `${where} window`, { allowZero: false })
  const plain = expectations.map(({ ...e }) => {
    if (e.kind === 'referential') delete e.other
    return e as Expectation
  })
  const spec = { expectations: plain, windowMs, keyGroups: DEFAULT_KEY_GROUPS }
  const other = [...others][0]
  const inputs = [stream.edge(() => 0), ...(other !== undefined ? [other.edge(() => 0)] : [])]
  const node = p.addNode('expect', inputs, { expectations: plain.map((e) => ({ ...e, name: expectationName(e) })), ...(windowMs !== undefined ? { windowMs } : {}) }, { role: 'operator', keyed: true, build: (ctx) => new ExpectOperator(spec, ctx) })
  node.sideOutputs.push(QUALITY_OUTPUT)
  return stream.derive<T>(node)
}
