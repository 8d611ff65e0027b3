import type { Batch, Position } from './batch.ts'
import type { Clock } from './clock.ts'
import type { StepMetrics } from './metrics.ts'
import type { StateBackend } from './state-backend.ts'

/** Where an operator sends results: its main output, or a named side output. */
export interface Output {
  emit(batch: Batch): void
  side(tag: string, batch: Batch): void
}

/**
 * What the error policy decided for a record that failed in user code.
 * @example pipeline('orders', { onError: 'dead-letter' }) // or 'fail' (the default), 'skip', 'error-output'
 */
export type ErrorPolicy = 'fail' | 'skip' | 'error-output' | 'dead-letter'

/**
 * A record that failed in a user function, as sent to the `errors` side output.
 * @example p.errors().map((e: ErrorRecord) => ({ step: e.step, position: e.position, error: e.error })).to(sink.jsonl('out/errors.jsonl'))
 */
export interface ErrorRecord {
  step: string
  error: string
  position: Position | null
  record: unknown
}

export interface ErrorSink {
  /**
   * Reports a record whose user function threw. Throws (stopping the job) under the `fail` policy;
   * otherwise counts it and, under `error-output`, sends it to the `errors` side output.
   */
  report(step: string, error: unknown, record: unknown, time: number, position: Position | undefined): void
  /**
   * A user function threw `error`. When the error is transient and the pipeline retries, calls
   * `fn.call(self, a, b)` again after a blocking backoff, up to the configured attempts, and returns its
   * result; otherwise (or once retries are used up) throws the last error, which the caller then `report`s.
   * Only the catch paths call it, so the hot path allocates nothing for it.
   */
  retry(step: string, error: unknown, fn: (this: any, a: any, b: any) => unknown, self: unknown, a: unknown, b?: unknown): unknown
}

/** What the runtime gives an operator when it builds it. */
export interface OperatorContext {
  readonly pipeline: string
  readonly stepId: string
  readonly subtask: number
  readonly parallelism: number
  readonly clock: Clock
  readonly metrics: StepMetrics
  readonly errors: ErrorSink
  readonly state: StateBackend
  /** The operator's current input watermark (min over its inputs). */
  currentWatermark(): number
  /** Asks the runtime to call `onProcessingTime` once the clock reaches `time`. */
  scheduleProcessingTime(time: number): void
}

/**
 * A running step. Only `process` is required; the hooks default to no-ops. Every call is
 * synchronous and works on whole batches: no Promise per record.
 */
export interface Operator {
  /** A batch arrives on input `input` (0 for single-input steps). */
  process(batch: Batch, out: Output, input: number): void
  /**
   * The combined input watermark advanced to `watermark`; fire what is due. The runtime then forwards the
   * watermark downstream, or the returned number if it is lower (an operator that will still emit older
   * records, such as a left interval join, holds the watermark back).
   */
  onWatermark?(watermark: number, out: Output): number | void
  /** The processing-time clock reached a time this operator scheduled. */
  onProcessingTime?(now: number, out: Output): void
  /** Every input ended (after the final watermark): emit anything still held. */
  finish?(out: Output): void
  /**
   * State at a checkpoint barrier, as plain structured-cloneable data. Keyed operators return a
   * KeyedSnapshot so state can be redistributed by key group when the parallelism changes. The result may
   * share objects with live state: the caller copies (serializes) it before the operator runs again, so
   * the state is copied once, not twice.
   */
  snapshot?(): unknown
  /** Keys holding state now, for the run summary (state that only grows shows here). */
  keysHeld?(): number
  /**
   * Incremental checkpoints, for keyed operators whose output does not depend on the order in which their
   * keys are held. `base: true` returns a full snapshot (as `snapshot()`) and starts tracking changed keys;
   * `base: false` returns a delta: every key changed since the previous call in its group's `CHANGED_KEYS`
   * list (so a key whose state is gone is known), with its current state in every list (timers too), each
   * entry either whole or, where the operator knows what changed inside it, as a `RowPatch` (under
   * `ROW_PATCHES`) of the rows added and removed since. `snapshot()` stops tracking. The checkpoint merges a base and its deltas (mergeKeyed) before a restore.
   * Like a full snapshot, a delta of state kept in a store may read each group as it is first read (see
   * `lazyGroups`): encode it before the operator runs again, reading each group once.
   */
  snapshotIncremental?(base: boolean): KeyedSnapshot
  /** Keyed operators receive a KeyedRestore: only the key groups this subtask owns. */
  restore?(state: unknown): void
  /**
   * The state API (readState): the state of every key as rows, after a restore. Keyed aggregates, process
   * functions, windows and the three joins give it; see StateRow for what `value` is.
   */
  stateRows?(): Iterable<StateRow>
  /** The state API (writeSavepoint): sets the state of `row.key` as `stateRows` would give it back. */
  bootstrapState?(row: StateRow): void
  /**
   * Asynchronous steps (`lookup`) only: a promise while the step has as much work in flight as it allows
   * (the runtime then reads no more input on this thread until it settles: backpressure), else undefined.
   * Results are emitted from the step's own continuations.
   */
  waitForRoom?(): Promise<void> | undefined
  /**
   * Asynchronous steps only: a promise while any work is in flight, settled once its results are emitted.
   * The runtime waits for it before a barrier passes the step (so a checkpoint holds no lookup in flight)
   * and before the step ends.
   */
  drain?(): Promise<void> | undefined
}

/**
 * One key's state in the state API (one key's window, for windowed steps):
 * - keyed aggregate: `value` is its accumulator, `result` the last result emitted;
 * - process function: an object of its value, list and map states by name (maps as objects); tuple keys are
 *   given as their JSON text;
 * - window aggregate: a row per open window, `window` its bounds, `value` its accumulator, `result` the
 *   last result it fired (writeSavepoint takes `{ key, window, value }`: an open window that fires at its end);
 * - window join: a row per open window, `value` its buffered records `{ left, right }` (writeSavepoint takes the same);
 * - interval join: `value` the buffered records `{ left, right }`, each `{ time, value }` (writeSavepoint takes
 *   the same: pairs among them count as met);
 * - regular join: `value` the rows kept `{ left, right }` (writeSavepoint takes the same, and `time`: when
 *   the sides were last written, in the TTL's clock; by default, for a processing-time TTL, when the
 *   savepoint is written).
 * @example const rows: StateRow[] = await readState('savepoints/v1', { step: 'totals' }) // [{ key: 'eu', value: 42, result: 42 }]
 */
export interface StateRow {
  key: unknown
  value: unknown
  result?: unknown
  /** The window of a windowed step's row: `[start, end)` in epoch ms (infinite for global and count windows). */
  window?: { start: number; end: number }
  /**
   * Written by writeSavepoint for a regular join: when its sides were last written, in epoch ms of the join's
   * TTL clock (each side then lives `ttl` after it).
   */
  time?: number
}

/** A keyed operator's snapshot: per key group (see keyGroupOf), plus operator-wide data. */
export interface KeyedSnapshot {
  keyGroups: number
  groups: Record<number, unknown>
  /** Data not tied to a key (a watermark, counters). */
  shared?: unknown
}

/**
 * A named list of per-key entries in a key group's data, as columns: `s` positions (the order of entries in
 * the whole snapshot), `k` keys, `d` data.
 */
export interface EntryColumns {
  s: number[]
  k: unknown[]
  d: unknown[]
}

/** In a delta (see `Operator.snapshotIncremental`), the group field listing the keys changed in that group. */
export const CHANGED_KEYS = '$changed'

/**
 * In a delta, the group field holding row-level changes: `{ [list]: EntryColumns }` whose data are RowPatches
 * of the key's entry in that list as of the previous layer (its key is listed in `CHANGED_KEYS` too).
 */
export const ROW_PATCHES = '$patches'

/**
 * The changes of one entry since the previous snapshot: each splice keeps the first `kept` items of the array at
 * `path` (indexes and property names from the entry's data down) and appends `added`; each set replaces the
 * value at `path`. Splices apply first, in order.
 *
 * @example
 * // one side of a join key kept its first 40 rows and gained two; the match counts were rewritten
 * const p: RowPatch = [[[[1, 0], 40, [bid41, bid42]]], [[[1, 1], [1, 0, 1]]]]
 */
export type RowPatch = [splices: [path: (number | string)[], kept: number, added: unknown[]][], sets: [path: (number | string)[], value: unknown][]]

/** What a keyed operator restores from: the groups it owns now, and `shared` of every previous subtask. */
export interface KeyedRestore {
  keyGroups: number
  groups: Record<number, unknown>
  shared: unknown[]
}

/** Control signals that travel with the data. */
export type Control =
  | { kind: 'watermark'; ts: number }
  | { kind: 'idle' }
  | { kind: 'barrier'; id: number }
  | { kind: 'eof' }
