import { BatchBuilder, type Batch } from '../../core/batch.ts'
import { flushOutputs } from '../flush-outputs.ts'
import { userError } from '../../core/errors.ts'
import { keyId } from '../../core/key.ts'
import type { KeyedSnapshot, Operator, OperatorContext, Output, StateRow } from '../../core/operator.ts'
import type { TimerService } from '../../core/state-backend.ts'
import { EntryCache } from '../../state/entry-cache.ts'
import { checkRestore, KeyedSnapshotWriter, minShared, restoreEntries, snapshotEntries, snapshotOf, timersInto } from '../keyed-snapshot.ts'
import { bootstrapWindow, twoRows } from '../window/bootstrap-window.ts'
import { bootstrapSides } from './bootstrap-sides.ts'
import type { WindowAssigner } from '../window/assigners.ts'
import type { JoinLateRecord, JoinType } from './join-types.ts'
import { PausableBatches } from '../pausable.ts'
import { ChangeTracker } from '../change-tracker.ts'
import { TimerFiring } from '../timer-firing.ts'

export interface WindowJoinSpec {
  assigner: WindowAssigner
  type: JoinType
  fn: (left: unknown, right: unknown) => unknown
}

/** The records of one key in one window, per side, in arrival order. */
interface Slot {
  start: number
  end: number
  left: unknown[]
  right: unknown[]
  /** Latest record time: the result time of a window without an end (global). */
  maxTs: number
}

interface KeyEntry {
  key: unknown
  /** Windows of this key by start. */
  slots: Map<number, Slot>
  /** The tracking epoch in which the key last changed (see snapshotIncremental; -1: never). */
  mark: number
}

/** The name of the windows' value state in the step's state backend. */
const WINDOWS = 'windows'

/**
 * Throws if `assigner` cannot drive a window join: the windows must be fixed once assigned (no merging
 * sessions), and fire on time, not on a count trigger.
 */
export function checkJoinAssigner(assigner: WindowAssigner, step: string): void {
  if (assigner.merging) {
    throw userError('SLUICE_BAD_OPTION', `step '${step}': windowJoin does not support merging windows ('${assigner.kind}')`, {
      step,
      hint: 'use window.tumbling or window.sliding, or an intervalJoin for activity-based matching',
    })
  }
  if (assigner.kind === 'count') {
    throw userError('SLUICE_BAD_OPTION', `step '${step}': windowJoin does not support count windows`, { step, hint: 'use window.tumbling, window.sliding or window.global' })
  }
}

/**
 * Joins records of both inputs (0 = left, 1 = right) with equal keys in the same window when the window
 * fires, as Flink's window join (a coGroup): inner gives every pair; left/right/full also give the records
 * of a side whose window holds nothing from the other side, paired with null. Results carry the window's
 * last instant (end - 1) as their time. Records whose windows have all fired go to the `late` output.
 * A key's windows live in the step's state backend, their timers in the backend's timer queue.
 */
export class WindowJoinOperator extends PausableBatches implements Operator {
  private readonly spec: WindowJoinSpec
  private readonly ctx: OperatorContext
  private readonly keys: EntryCache<KeyEntry>
  /** Keys changed since the last snapshot, while deltas are taken. */
  private readonly changes = new ChangeTracker<KeyEntry>()
  /** Incremental snapshots on a store backend only, as a window step takes them (see WindowOperator.snapshotIncremental). */
  readonly snapshotIncremental: ((base: boolean) => KeyedSnapshot) | undefined
  private readonly timers: TimerService
  private readonly processingTime: boolean
  private readonly leftOuter: boolean
  private readonly rightOuter: boolean
  private readonly bounds: number[] = []
  private readonly out = new BatchBuilder()
  private readonly late = new BatchBuilder<JoinLateRecord>()
  private wm = -Infinity

  constructor(spec: WindowJoinSpec, ctx: OperatorContext) {
    super()
    checkJoinAssigner(spec.assigner, ctx.stepId)
    this.spec = spec
    this.ctx = ctx
    this.snapshotIncremental = ctx.state.holdsValues ? undefined : (base) => this.deltas(base)
    this.processingTime = spec.assigner.time === 'processing'
    this.leftOuter = spec.type === 'left' || spec.type === 'full'
    this.rightOuter = spec.type === 'right' || spec.type === 'full'
    // v8: records may hold Maps, Dates or bigints, and a key's windows are a Map.
    this.keys = new EntryCache(ctx.state, { name: WINDOWS, codec: 'v8' })
    this.timers = ctx.state.timers('windows')
  }

  /** A batch only files records in their windows (no user function runs): it never stops part-way. */
  protected run(batch: Batch, out: Output, input: number): void {
    const { values, times } = batch
    const keys = batch.keys!
    const bounds = this.bounds
    const assigner = this.spec.assigner
    const now = this.processingTime ? this.ctx.clock.now() : 0
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      const ts = this.processingTime ? now : times[i]
      bounds.length = 0
      assigner.assign(ts, bounds)
      const key = keys[i]
      const id = keyId(key)
      let entry = this.keys.get(id)
      let accepted = false
      for (let b = 0; b < bounds.length; b += 2) {
        const start = bounds[b]
        const end = bounds[b + 1]
        if (!this.processingTime && end - 1 <= this.wm) continue
        accepted = true
        entry ??= this.keys.add(id, { key, slots: new Map(), mark: -1 })
        this.changes.mark(entry)
        let slot = entry.slots.get(start)
        if (slot === undefined) {
          slot = { start, end, left: [], right: [], maxTs: ts }
          entry.slots.set(start, slot)
          this.timers.register(end - 1, id, key)
          if (this.processingTime) this.ctx.scheduleProcessingTime(end - 1)
        }
        ;(input === 0 ? slot.left : slot.right).push(v)
        if (ts > slot.maxTs) slot.maxTs = ts
      }
      if (!accepted) this.late.push({ step: this.ctx.stepId, reason: 'window-closed', time: ts, watermark: this.wm, record: v, side: input === 0 ? 'left' : 'right' }, ts)
    }
    this.keys.flush()
    this.flush(out)
  }

  onWatermark(watermark: number, out: Output): void {
    this.wm = watermark
    this.lookSoon()
    this.stopAsked = false
    this.fireDue(this.processingTime ? undefined : watermark, out)
  }

  onProcessingTime(now: number, out: Output): void {
    this.lookSoon()
    this.stopAsked = false
    this.fireDue(this.processingTime ? now : undefined, out)
  }

  /** Fires the windows due up to `upTo` (if any), then emits; a slow join function stops it between keys (see PausableBatches). */
  private fireDue(upTo: number | undefined, out: Output): void {
    if (upTo !== undefined && !this.fireUpTo(upTo)) return this.stopped(() => this.fireDue(upTo, out))
    this.flush(out)
  }

  /** End of input: processing-time windows still open fire now (event-time ones fired at the final watermark). */
  finish(out: Output): void {
    const ids: unknown[] = []
    this.ctx.state.forEachValue<KeyEntry>(WINDOWS, (id, entry) => {
      ids.push(id)
      this.changes.mark(entry)
      for (const slot of entry.slots.values()) this.fire(entry.key, slot)
    })
    for (const id of ids) this.keys.delete(id)
    this.timers.restore([])
    this.flush(out)
  }

  private readonly firing = new TimerFiring()
  /** A look during the last key's calls of the join function said to stop. */
  private stopAsked = false
  private readonly looks = (): boolean => {
    const stop = this.stopAsked
    this.stopAsked = false
    return stop
  }

  /** Fires every window whose timer is due up to `time`; false when it stopped between two keys (the rest fires on the next call). */
  private fireUpTo(time: number): boolean {
    return this.firing.fire(
      this.timers,
      time,
      (due, id) => {
        const entry = this.keys.get(id)
        if (entry === undefined) return
        this.changes.mark(entry)
        for (const [start, slot] of entry.slots) {
          if (slot.end - 1 > due) continue
          // Each call of the join function counts (a key with many pairs is much work), and a key at least once.
          const calls = Math.max(1, this.fire(entry.key, slot))
          for (let c = 0; c < calls && !this.stopAsked; c++) this.stopAsked = this.looked()
          entry.slots.delete(start)
        }
        if (entry.slots.size === 0) this.keys.delete(id)
      },
      this.looks,
      () => this.keys.flush(),
    )
  }

  /** Joins the records of one key's window; returns how many times it called the join function. */
  private fire(key: unknown, slot: Slot): number {
    const { left, right } = slot
    const t = Number.isFinite(slot.end) ? slot.end - 1 : slot.maxTs
    if (right.length === 0) {
      if (!this.leftOuter) return 0
      for (const l of left) this.call(l, null, t, key)
      return left.length
    }
    if (left.length === 0) {
      if (!this.rightOuter) return 0
      for (const r of right) this.call(null, r, t, key)
      return right.length
    }
    for (const l of left) for (const r of right) this.call(l, r, t, key)
    return left.length * right.length
  }

  private call(l: unknown, r: unknown, t: number, key: unknown): void {
    let v: unknown
    try {
      v = this.spec.fn(l, r)
    } catch (e) {
      this.ctx.errors.report(this.ctx.stepId, e, { key, left: l, right: r }, t, undefined)
      return
    }
    this.out.push(v, t)
  }

  private flush(out: Output): void {
    flushOutputs(this.ctx, out, this.out, this.late)
  }

  /** Keys holding state now (for the run summary). */
  keysHeld(): number {
    return this.ctx.state.sizes()[`value:${WINDOWS}`] ?? 0
  }

  /** Per key: its windows' records of both sides and its timers; the watermark is shared. */
  snapshot(): KeyedSnapshot {
    this.changes.stop()
    const state = this.ctx.state
    const w = new KeyedSnapshotWriter(state.keyGroups)
    w.timers('timers', this.timers)
    return snapshotOf(state, w, (kg) => state.forEachValue<KeyEntry>(WINDOWS, (_id, e) => addWindows(w, e), kg), { wm: this.wm })
  }

  /**
   * A full snapshot that starts change tracking, or the keys changed since the previous call, each with its
   * windows and timers: a key changes when a record enters a window of it or its windows fire.
   */
  private deltas(base: boolean): KeyedSnapshot {
    return this.changes.incremental(
      base,
      () => this.snapshot(),
      () => this.changes.delta(this.ctx.state, this.ctx.stepId, (id) => this.keys.state.get(id), addWindows, [['timers', this.timers]], { wm: this.wm }),
    )
  }

  /** A row per open window of every key: its buffered records `{ left, right }`, in arrival order. */
  *stateRows(): Iterable<StateRow> {
    for (const [key, slots] of snapshotEntries<Slot[]>(this.snapshot(), 'windows')) {
      for (const s of slots) yield { key, window: { start: s.start, end: s.end }, value: { left: s.left, right: s.right } }
    }
  }

  /**
   * The state API (writeSavepoint): an open window `row.window` of `row.key` holding the records
   * `row.value.left` and `row.value.right` (arrays), as if they had arrived; it fires at its end with the
   * records the restored job adds. Event-time windows only.
   */
  bootstrapState(row: StateRow): void {
    const step = this.ctx.stepId
    const { start, end } = bootstrapWindow(row, this.spec.assigner, step)
    const { left, right } = bootstrapSides(row, step)
    const id = keyId(row.key)
    const entry = this.keys.get(id) ?? this.keys.add(id, { key: row.key, slots: new Map(), mark: -1 })
    if (entry.slots.has(start)) throw twoRows(step, row.key, start, end)
    this.changes.mark(entry)
    entry.slots.set(start, { start, end, left, right, maxTs: start })
    this.timers.register(end - 1, id, row.key)
    this.keys.flush()
  }

  restore(state: unknown): void {
    const r = checkRestore(state, this.ctx.state.keyGroups, this.ctx.stepId)
    this.wm = minShared(r, 'wm')
    this.changes.stop()
    this.keys.reset()
    this.ctx.state.restore({ format: 'sluice-keyed-state/1', keyGroups: r.keyGroups, states: {}, groups: {} })
    const times = new Set<number>()
    restoreEntries(
      r,
      {
        windows: (key, slots: Slot[]) => this.keys.state.set(keyId(key), { key, slots: new Map(slots.map((s) => [s.start, s])), mark: -1 }),
        timers: timersInto(this.timers, times),
      },
      this.ctx.state.insertionOrdered,
    )
    if (this.processingTime) for (const t of times) this.ctx.scheduleProcessingTime(t)
  }
}

/** Files a key's open windows, each with its records of both sides. */
function addWindows(w: KeyedSnapshotWriter, e: KeyEntry): void {
  w.add('windows', e.key, [...e.slots.values()])
}
