import { INSERT, rowKindName, type Batch, type RowKind, type RowKindName } from '../core/batch.ts'
import { ManualClock } from '../core/clock.ts'
import { StepMetrics } from '../core/metrics.ts'
import type { ErrorPolicy, KeyedRestore, KeyedSnapshot, Operator, OperatorContext, Output } from '../core/operator.ts'
import { isKeyedSnapshot, redistributeKeyed } from '../checkpoint/redistribute.ts'
import { readEntries } from '../operators/keyed-snapshot.ts'
import { HeapStateBackend } from '../state/heap/heap-backend.ts'
import { DurableStateBackend } from '../state/durable/durable-backend.ts'
import type { StateBackend } from '../core/state-backend.ts'
import { TimerQueue } from '../state/timers.ts'
import { PolicyErrorSink } from '../runtime/error-sink.ts'
import type { ErrorRecord } from '../core/operator.ts'

/**
 * A record an operator emitted, or a pipeline's sink received: its value, event time and changelog kind.
 * @example const [first] = op.take() // { value: …, time: 99, kind: '+I' }
 */
export interface HarnessRecord<T = unknown> {
  value: T
  time: number
  kind: RowKindName
}

/**
 * A record to feed an operator: its value, event time, key (for keyed operators) and changelog kind (default insert).
 * @example op.push([{ value: 1, time: 5, key: 'a' }])
 */
export interface HarnessInput<T> {
  value: T
  time: number
  key?: unknown
  kind?: RowKind
}

const harnessBackends = new Set<StateBackend>()
// Durable stores live in temporary folders: removed when the test process ends.
process.once('exit', () => harnessBackends.forEach((b) => b.close()))

/**
 * Drives one operator the way the runtime does, with time under the test's control: feed records (with
 * keys and times), advance the watermark and the processing-time clock, snapshot and restore, and read
 * what came out on the main and side outputs.
 *
 * @example
 * const op = new OperatorHarness((ctx) => new WindowOperator(spec, ctx))
 * op.push([{ value: 1, time: 5, key: 'a' }]); op.watermark(100); op.take() // -> records fired
 * @example
 * // Rescaling: snapshot subtasks, split their state for a new parallelism, restore new harnesses from it.
 * const restores = OperatorHarness.redistribute([op0.snapshot(), op1.snapshot()], 3)
 * const hs = restores.map((r, i) => new OperatorHarness(makeOperator, { subtask: i, parallelism: 3 }).restoreFrom(r))
 */
export class OperatorHarness {
  /**
   * The processing-time clock the operator sees; `advanceProcessingTime` moves it and fires due timers.
   * @example op.clock.now() // the operator's processing time
   */
  readonly clock: ManualClock
  /**
   * The step's counters (records in and out, late, errors, dropped), as the runtime would count them.
   * @example op.metrics.late // records the operator found late
   */
  readonly metrics: StepMetrics
  /**
   * Where records that failed go under the harness's `onError` policy (`takeErrors` reads them).
   * @example op.takeErrors() // rather than reading this sink directly
   */
  readonly errors: PolicyErrorSink
  /**
   * The operator under test (a new one after each restore).
   * @example op.operator.snapshot?.() // the operator's own hooks, for what the harness does not cover
   */
  operator: Operator
  private readonly build: (ctx: OperatorContext) => Operator
  private readonly procTimers = new TimerQueue()
  private main: HarnessRecord[] = []
  private sides = new Map<string, HarnessRecord[]>()
  private wm = -Infinity
  private readonly out: Output
  private readonly subtask: number
  private readonly parallelism: number
  /** Where the operator's keyed state lives: `state` option, else SLUICE_TEST_STATE=durable, else the heap. */
  private readonly stateKind: 'heap' | 'durable'
  private backend: StateBackend | undefined

  constructor(
    build: (ctx: OperatorContext) => Operator,
    opts: { stepId?: string; clock?: ManualClock; onError?: ErrorPolicy; subtask?: number; parallelism?: number; state?: 'heap' | 'durable' } = {},
  ) {
    this.build = build
    this.stateKind = opts.state ?? (process.env.SLUICE_TEST_STATE === 'durable' ? 'durable' : 'heap')
    this.subtask = opts.subtask ?? 0
    this.parallelism = opts.parallelism ?? 1
    this.clock = opts.clock ?? new ManualClock(0)
    const stepId = opts.stepId ?? 'op-1'
    this.metrics = new StepMetrics(stepId, 'test')
    this.errors = new PolicyErrorSink(opts.onError ?? 'fail', () => this.metrics)
    const collectInto = (list: HarnessRecord[], b: Batch) => {
      for (let i = 0; i < b.values.length; i++) list.push({ value: b.values[i], time: b.times[i], kind: rowKindName(b.kinds?.[i] ?? INSERT) })
    }
    this.out = {
      emit: (b) => collectInto(this.main, b),
      side: (tag, b) => {
        let l = this.sides.get(tag)
        if (l === undefined) this.sides.set(tag, (l = []))
        collectInto(l, b)
      },
    }
    this.operator = this.fresh()
  }

  /**
   * Closes the operator's state backend (a durable store and its folder go). Tests that make many harnesses
   * (property tests) close each when done with it; the rest are closed when the test process exits.
   * @example op.close() // when the test is done with it
   */
  close(): void {
    if (this.backend === undefined) return
    this.backend.close()
    harnessBackends.delete(this.backend)
    this.backend = undefined
  }

  /**
   * The operator's keyed state backend (for tests that look at how state is stored).
   * @example op.state.sizes() // { 'value:regular-join': 1 }
   */
  get state(): StateBackend {
    if (this.backend === undefined) throw new Error('OperatorHarness.state: the harness is closed')
    return this.backend
  }

  private fresh(): Operator {
    this.procTimers.restore([])
    this.close()
    // A small cache, so that tests go through the store's eviction and reads.
    // The harness clock drives state TTL, as the runtime's clock does.
    this.backend = this.stateKind === 'durable' ? new DurableStateBackend({ cacheEntries: 8, clock: this.clock, watermark: () => this.wm }) : new HeapStateBackend({ clock: this.clock, watermark: () => this.wm })
    harnessBackends.add(this.backend)
    const ctx: OperatorContext = {
      pipeline: 'harness',
      stepId: this.metrics.step,
      subtask: this.subtask,
      parallelism: this.parallelism,
      clock: this.clock,
      metrics: this.metrics,
      errors: this.errors,
      state: this.backend,
      currentWatermark: () => this.wm,
      scheduleProcessingTime: (t) => this.procTimers.register(t, 0),
    }
    return this.build(ctx)
  }

  /**
   * Feeds one batch on `input` (0 unless the operator has two inputs).
   * @example op.push([{ value: 1, time: 5, key: 'a' }, { value: 2, time: 7, key: 'b' }])
   */
  push<T>(records: HarnessInput<T>[], input = 0): this {
    const batch: Batch = { values: records.map((r) => r.value), times: records.map((r) => r.time) }
    if (records.some((r) => r.key !== undefined)) batch.keys = records.map((r) => r.key)
    if (records.some((r) => r.kind !== undefined && r.kind !== INSERT)) batch.kinds = records.map((r) => r.kind ?? INSERT)
    this.metrics.recordsIn += records.length
    this.operator.process(batch, this.out, input)
    return this
  }

  /**
   * Advances the watermark (ignored if not ahead of the current one, as in the runtime).
   * @example op.watermark(60_000).take() // what the watermark fired
   */
  watermark(ts: number): this {
    if (ts <= this.wm) return this
    this.wm = ts
    this.operator.onWatermark?.(ts, this.out)
    return this
  }

  /**
   * Moves processing time forward and fires the operator's due processing-time timers.
   * @example op.advanceProcessingTime(1_000)
   */
  advanceProcessingTime(ms: number): this {
    const now = this.clock.advance(ms)
    if (this.procTimers.pollUpTo(now) !== undefined) {
      while (this.procTimers.pollUpTo(now) !== undefined);
      this.operator.onProcessingTime?.(now, this.out)
    }
    return this
  }

  /**
   * Ends the input: final watermark +infinity, then `finish`.
   * @example const rest = op.end().takeValues()
   */
  end(): this {
    this.watermark(Infinity)
    this.operator.finish?.(this.out)
    return this
  }

  /**
   * Snapshots the operator, then replaces it with a fresh instance restored from the snapshot.
   * @example op.push(first).snapshotAndRestore().push(second)
   */
  snapshotAndRestore(): this {
    const snap = this.snapshot()
    this.operator = this.fresh()
    // A keyed snapshot is restored as the only subtask of parallelism 1 would restore it.
    if (snap !== undefined) this.restore(isKeyedSnapshot(snap) ? redistributeKeyed([snap], 1)[0] : snap)
    return this
  }

  /**
   * The operator's snapshot, copied as a checkpoint would store it (structured clone).
   * @example const saved = op.snapshot()
   */
  snapshot(): unknown {
    return structuredClone(this.operator.snapshot?.())
  }

  /**
   * Replaces the operator with a fresh instance restored from `state` (a copy of it): a KeyedRestore for a
   * keyed operator, as `OperatorHarness.redistribute` gives. `watermark` sets the input watermark the
   * runtime would have restored with it (default: the harness keeps its own).
   * @example new OperatorHarness(makeOperator).restoreFrom(saved, { watermark: 100 })
   */
  restoreFrom(state: KeyedRestore | unknown, opts: { watermark?: number } = {}): this {
    this.operator = this.fresh()
    if (opts.watermark !== undefined) this.wm = opts.watermark
    this.restore(structuredClone(state))
    return this
  }

  /** Restores the operator as the runtime does: through its backend's bulk load where it has one. */
  private restore(state: unknown): void {
    const op = this.operator
    if (op.restore === undefined) return
    this.backend!.bulkLoad(() => op.restore!(state))
  }

  /**
   * The entries of list `list` (as the operator names it: 'windows', 'rows', 'buffers'...) in the operator's
   * keyed snapshot now, in order, as `[key, data]`: to check what state a keyed operator holds.
   * @example op.snapshotEntries('windows').map(([key]) => key) // ['a', 'b']
   */
  snapshotEntries(list: string): [key: unknown, data: unknown][] {
    const snap = this.snapshot()
    if (!isKeyedSnapshot(snap)) throw new Error('snapshotEntries: the operator does not take keyed snapshots')
    return readEntries(redistributeKeyed([snap], 1)[0], list).map(([, key, data]) => [key, data])
  }

  /**
   * Splits keyed snapshots of all subtasks into what each subtask restores at `newParallelism` (see redistributeKeyed).
   * @example const [r0, r1, r2] = OperatorHarness.redistribute([op0.snapshot(), op1.snapshot()], 3)
   */
  static redistribute(snapshots: readonly unknown[], newParallelism: number): KeyedRestore[] {
    return redistributeKeyed(snapshots as KeyedSnapshot[], newParallelism)
  }

  /**
   * Main output since the last call.
   * @example const [first] = op.take() // { value, time, kind: '+I' }
   */
  take(): HarnessRecord[] {
    const m = this.main
    this.main = []
    return m
  }

  /**
   * Main output values since the last call (kinds dropped).
   * @example assert.deepEqual(op.takeValues(), [2])
   */
  takeValues(): unknown[] {
    return this.take().map((r) => r.value)
  }

  /**
   * A side output since the last call.
   * @example op.takeSide('late').length // records the window found late
   */
  takeSide(tag: string): HarnessRecord[] {
    const l = this.sides.get(tag) ?? []
    this.sides.delete(tag)
    return l
  }

  /**
   * Records sent to the error output (policy 'error-output').
   * @example op.takeErrors()[0].step // 'op-1'
   */
  takeErrors(): ErrorRecord[] {
    return this.errors.pending.take().values
  }

  /**
   * The last watermark given to the operator (-Infinity before the first).
   * @example op.watermark(100).currentWatermark // 100
   */
  get currentWatermark(): number {
    return this.wm
  }
}
