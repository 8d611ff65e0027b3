import { BatchBuilder, DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, type Batch } from '../../core/batch.ts'
import { keyId } from '../../core/key.ts'
import { userError } from '../../core/errors.ts'
import type { KeyedSnapshot, Operator, OperatorContext, Output, StateRow } from '../../core/operator.ts'
import type { ValueState } from '../../core/state-backend.ts'
import type { Duration } from '../../core/duration.ts'
import type { AggregateFunction } from '../aggregate/aggregate-function.ts'
import type { KeyedPartial } from '../aggregate/combiner.ts'
import { isPartial } from '../aggregate/partial.ts'
import { ChangeTracker } from '../change-tracker.ts'
import { PausableBatches } from '../pausable.ts'
import { checkRestore, KeyedSnapshotWriter, restoreEntries, snapshotOf } from '../keyed-snapshot.ts'

/**
 * A row of a continuously updated table: the key and its current aggregate.
 * @example orders.keyBy((o) => o.country).aggregate(agg.count()).map((r: KeyedResult<string, number>) => `${r.key}: ${r.value}`)
 */
export interface KeyedResult<K, R> {
  key: K
  value: R
}

interface Row<A, R> {
  key: unknown
  acc: A
  /** Records currently counted (inserts minus retractions). */
  n: number
  emitted: boolean
  last: R | undefined
  time: number
  /** The tracking epoch in which the row last changed (see snapshotIncremental). */
  mark: number
}

/** A row in a snapshot: `[acc, n, emitted, last, time]`. */
type SavedRow<A, R> = [A, number, boolean, R | undefined, number]

/** The name of the rows' value state in the step's state backend. */
const ROWS = 'keyed-aggregate'

export interface KeyedAggregateOptions {
  /**
   * Forget a key's row once this much processing time passed without a record for it (state TTL): what was
   * emitted stays as it is, and a later record of the key starts a new row (+I). Default: rows are kept.
   */
  ttl?: Duration
  /** The time `ttl` is counted in: 'processing' (default) or 'event' (the step's watermark). */
  ttlTime?: 'processing' | 'event'
}

/**
 * A keyed aggregate without a window: a table that updates with every record, emitted as a changelog
 * (+I for a new key, -U/+U for a change, -D when retractions empty a key). Updates are compacted per batch:
 * a key touched many times in one batch emits one update. Rows live in the step's state backend (heap or
 * durable); a row read in a batch is written back once at its end.
 */
export class KeyedAggregateOperator<T, A, R> extends PausableBatches implements Operator {
  private readonly agg: AggregateFunction<T, A, R>
  private readonly op: OperatorContext
  private readonly rows: ValueState<Row<A, R>>
  /** Rows read in this batch, by key identity: written back (or removed) at its end. */
  private readonly touched = new Map<unknown, Row<A, R>>()
  /** Rows of this batch that changed and emit. */
  private readonly emitting = new Set<Row<A, R>>()
  private readonly outb = new BatchBuilder<KeyedResult<unknown, R>>()
  /** The rows changed since the last incremental snapshot. */
  private readonly changes = new ChangeTracker<Row<A, R>>()

  constructor(agg: AggregateFunction<T, A, R>, op: OperatorContext, opts: KeyedAggregateOptions = {}) {
    super()
    this.agg = agg
    this.op = op
    // v8: accumulators may hold Maps, Sets or bigints, which the durable store must keep as they are.
    this.rows = op.state.value<Row<A, R>>({ name: ROWS, codec: 'v8', ...(opts.ttl === undefined ? {} : { ttl: { ttl: opts.ttl, time: opts.ttlTime ?? 'processing' } }) })
  }

  /** A batch stopped part-way keeps its touched rows: they are written back, and emit, once it is done. */
  protected run(batch: Batch, out: Output, input: number, from: number): void {
    const { values, times, kinds } = batch
    const keys = batch.keys!
    const agg = this.agg
    for (let i = from; i < values.length; i++) {
      if (this.stopAt(i, from, batch, out, input)) return
      const key = keys[i]
      const id = keyId(key)
      let row = this.touched.get(id)
      if (row === undefined) {
        row = this.rows.get(id) ?? { key, acc: agg.create(), n: 0, emitted: false, last: undefined, time: times[i], mark: -1 }
        this.touched.set(id, row)
      }
      const kind = kinds === undefined ? INSERT : kinds[i]
      const value = values[i] as T
      try {
        // A combiner's partial (see partial.ts): merged as its records would have been added one by one.
        if (isPartial(value)) {
          const c = value as unknown as KeyedPartial<unknown, A>
          row.acc = agg.merge(row.acc, c.acc)
          row.n += c.n
          if (times[i] > row.time) row.time = times[i]
          this.emitting.add(row)
          continue
        }
        if (kind === INSERT || kind === UPDATE_AFTER) {
          row.acc = agg.add(row.acc, value)
          row.n++
        } else {
          if (agg.retract === undefined) {
            throw userError('SLUICE_NOT_RETRACTABLE', `aggregate '${agg.name}' cannot take back a record, but its input is an updating stream`, {
              step: this.op.stepId,
              hint: 'use an aggregate with retract (count, sum, avg, countDistinct, min/max with { retractable: true }) or aggregate an append-only stream',
            })
          }
          row.acc = agg.retract(row.acc, value)
          row.n--
        }
      } catch (e) {
        if (e instanceof Error && 'code' in e && e.code === 'SLUICE_NOT_RETRACTABLE') throw e
        this.op.errors.report(this.op.stepId, e, values[i], times[i], batch.pos?.[i])
        // A key whose only record failed keeps no empty row (state that nothing would ever remove): see the write-back below.
        this.changes.mark(row)
        continue
      }
      if (times[i] > row.time) row.time = times[i]
      this.emitting.add(row)
    }
    for (const row of this.emitting) {
      this.changes.mark(row)
      this.emitRow(row)
    }
    this.emitting.clear()
    for (const [id, row] of this.touched) {
      if (row.n <= 0 && !row.emitted) this.rows.delete(id)
      else this.rows.set(id, row)
    }
    this.touched.clear()
    if (this.outb.length > 0) {
      const b = this.outb.take()
      this.op.metrics.recordsOut += b.values.length
      out.emit(b)
    }
  }

  private emitRow(row: Row<A, R>): void {
    if (row.n <= 0) {
      if (row.emitted) this.outb.pushKind({ key: row.key, value: row.last as R }, row.time, DELETE)
      // Removed from the state by the write-back.
      row.emitted = false
      row.n = 0
      return
    }
    const value = this.agg.result(row.acc)
    if (row.emitted) {
      // A key whose value is back where it was after this batch (a retraction and an add that cancel) emits nothing.
      if (sameValue(value, row.last)) return
      this.outb.pushKind({ key: row.key, value: row.last as R }, row.time, UPDATE_BEFORE)
      this.outb.pushKind({ key: row.key, value }, row.time, UPDATE_AFTER)
    } else {
      this.outb.pushKind({ key: row.key, value }, row.time, INSERT)
    }
    row.emitted = true
    row.last = value
  }

  /** Keys holding state now (for the run summary). */
  keysHeld(): number {
    return this.op.state.sizes()[`value:${ROWS}`] ?? 0
  }

  /** Per key: its row (accumulator, count, last emitted result). Nothing is shared. */
  snapshot(): KeyedSnapshot {
    this.changes.stop()
    const state = this.op.state
    const w = new KeyedSnapshotWriter(state.keyGroups)
    return snapshotOf(state, w, (kg) => state.forEachValue<Row<A, R>>(ROWS, (_id, r) => w.add('rows', r.key, [r.acc, r.n, r.emitted, r.last, r.time]), kg))
  }

  /** A full snapshot that starts change tracking, or the rows changed (or removed) since the previous call. */
  snapshotIncremental(base: boolean): KeyedSnapshot {
    return this.changes.incremental(
      base,
      () => this.snapshot(),
      () => this.changes.delta(this.op.state, this.op.stepId, (id) => this.rows.get(id), (w, r) => w.add('rows', r.key, [r.acc, r.n, r.emitted, r.last, r.time])),
    )
  }

  /** Every row: the accumulator as `value`, the result last emitted as `result`. */
  *stateRows(): Iterable<StateRow> {
    const rows: StateRow[] = []
    this.op.state.forEachValue<Row<A, R>>(ROWS, (_id, r) => rows.push({ key: r.key, value: r.acc, ...(r.emitted ? { result: r.last } : {}) }))
    yield* rows
  }

  /**
   * A row with `value` as its accumulator, not emitted yet: the next record of the key emits +I with the result
   * that continues from it.
   */
  bootstrapState(row: StateRow): void {
    this.rows.set(keyId(row.key), { key: row.key, acc: row.value as A, n: 1, emitted: false, last: undefined, time: -Infinity, mark: -1 })
  }

  restore(state: unknown): void {
    const r = checkRestore(state, this.op.state.keyGroups, this.op.stepId)
    this.changes.stop()
    this.op.state.restore({ format: 'sluice-keyed-state/1', keyGroups: r.keyGroups, states: {}, groups: {} })
    restoreEntries(r, { rows: (key, [acc, n, emitted, last, time]: SavedRow<A, R>) => this.rows.set(keyId(key), { key, acc, n, emitted, last, time, mark: -1 }) }, this.op.state.insertionOrdered)
  }
}

/**
 * Whether an aggregate's new result equals the last one emitted: field by field for plain objects and arrays
 * (stops at the first difference, which is where a changed value usually differs), as JSON otherwise.
 */
function sameValue(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (depth > 8) return JSON.stringify(a) === JSON.stringify(b)
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i], depth + 1)) return false
    return true
  }
  const pa = Object.getPrototypeOf(a)
  if (pa !== Object.prototype || Object.getPrototypeOf(b) !== pa) return JSON.stringify(a) === JSON.stringify(b)
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  let n = 0
  for (const k in x) {
    if (!(k in y) || !sameValue(x[k], y[k], depth + 1)) return false
    n++
  }
  for (const _ in y) n--
  return n === 0
}
