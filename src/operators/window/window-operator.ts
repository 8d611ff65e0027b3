import { BatchBuilder, DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, type Batch } from '../../core/batch.ts'
import { flushOutputs } from '../flush-outputs.ts'
import { keyId } from '../../core/key.ts'
import type { KeyedSnapshot, Operator, OperatorContext, Output, StateRow } from '../../core/operator.ts'
import type { TimerService } from '../../core/state-backend.ts'
import { ChangeTracker } from '../change-tracker.ts'
import { EntryCache } from '../../state/entry-cache.ts'
import type { AggregateFunction } from '../aggregate/aggregate-function.ts'
import { checkRestore, KeyedSnapshotWriter, minShared, restoreEntries, snapshotEntries, snapshotOf, timersInto } from '../keyed-snapshot.ts'
import type { WindowAssigner } from './assigners.ts'
import { bootstrapWindow, twoRows } from './bootstrap-window.ts'
import type { WindowPartial } from './combiner.ts'
import { isPartial } from '../aggregate/partial.ts'
import { PausableBatches } from '../pausable.ts'
import { TimerFiring } from '../timer-firing.ts'
import { isBuiltinEventTimeTrigger, type Trigger, type TriggerContext, type TriggerResult } from './triggers.ts'

/**
 * One result of a window: the key, the window bounds `[start, end)` in epoch ms, and the aggregate.
 * Count windows have no bounds of their own: theirs are the event-time span of their records.
 * @example
 * clicks.keyBy((c) => c.page).window(window.tumbling({ size: '1m' })).count()
 *   .map((r: WindowResult<string, number>) => ({ page: r.key, minute: new Date(r.start).toISOString(), views: r.value }))
 */
export interface WindowResult<K, R> {
  key: K
  start: number
  end: number
  value: R
  /** Present (true) only on a count window fired at the end of input with fewer records than its size. */
  incomplete?: true
}

/**
 * A record that arrived after its windows were closed (watermark past end + allowed lateness).
 * @example
 * const views = clicks.keyBy((c) => c.page).window(window.tumbling({ size: '1m' }), { late: 'late' }).count()
 * views.sideOutput<LateRecord<Click>>('late').map((l) => ({ page: l.record.page, behind: l.watermark - l.time }))
 */
export interface LateRecord<T> {
  step: string
  reason: 'window-closed'
  time: number
  watermark: number
  record: T
}

/** What `WindowOperator.inspect` tells of one key (see there). */
export interface WindowInspection {
  watermark: number
  allowedLateness: number
  trigger: Record<string, unknown>
  assigner: Record<string, unknown>
  /** The key holds open windows now. */
  keyFound: boolean
  /** The windows `time` belongs to (event-time assigners that do not merge). */
  assigned: { start: number; end: number }[]
  /** The key's windows held now: records added since the last firing (`pending`), fired at least once (`fired`). */
  open: { start: number; end: number; triggerState: number; pending: boolean; fired: boolean; minTs: number; maxTs: number }[]
}

export interface WindowOperatorSpec<T, A, R> {
  assigner: WindowAssigner
  trigger: Trigger
  aggregate: AggregateFunction<T, A, R>
  allowedLateness: number
  lateTag: string
}

interface Slot<A, R> {
  start: number
  end: number
  acc: A
  /** Trigger state (a count, a next firing time). */
  tstate: number
  /** Records added since the last firing. */
  dirty: boolean
  emitted: boolean
  last: R | undefined
  maxTs: number
  /** Earliest record time since the window was last purged (count windows report [minTs, maxTs + 1)). */
  minTs: number
  /** Last event timer registered for this window, so a trigger re-registering it per record costs nothing. */
  etimer: number
}

interface KeyEntry<A, R> {
  key: unknown
  slots: Slot<A, R>[]
  /** The tracking epoch in which the key last changed (see snapshotIncremental; -1: never). */
  mark: number
}

/** The name of the windows' value state in the step's state backend. */
const WINDOWS = 'windows'

/**
 * Keyed windows with an incremental aggregate: only accumulators are kept, never the records. Fires by
 * trigger, re-fires within allowed lateness as an update (-U/+U), retracts merged session results (-D),
 * and sends records later than that to the late output. A key's windows live in the step's state backend
 * (heap or durable) and its timers in the backend's timer queues, so windows of more keys than memory holds
 * spill with the durable backend.
 */
export class WindowOperator<T, A, R> extends PausableBatches implements Operator {
  private readonly spec: WindowOperatorSpec<T, A, R>
  private readonly ctx: OperatorContext
  private readonly windows: EntryCache<KeyEntry<A, R>>
  /** Keys changed since the last snapshot, while deltas are taken. */
  private readonly changes = new ChangeTracker<KeyEntry<A, R>>()
  /**
   * Incremental snapshots, on a backend that keeps state in a store (see `deltas`). On the heap a window step's
   * snapshots stay full: its keys of one time fire in the order they came, which a restore from a full snapshot
   * keeps and one from deltas would not (a changed key's entries move after the unchanged ones); on a store they
   * fire in key order whatever the restore, and state larger than memory is where deltas pay.
   */
  readonly snapshotIncremental: ((base: boolean) => KeyedSnapshot) | undefined
  private readonly eventTimers: TimerService
  private readonly procTimers: TimerService
  private readonly bounds: number[] = []
  private readonly out = new BatchBuilder<WindowResult<unknown, R>>()
  private readonly late = new BatchBuilder<LateRecord<T>>()
  private readonly processingTime: boolean
  private wm = -Infinity
  private curId: unknown = undefined
  private curKey: unknown = undefined
  private curSlot: Slot<A, R> | undefined = undefined
  private readonly tctx: TriggerContext

  constructor(spec: WindowOperatorSpec<T, A, R>, ctx: OperatorContext) {
    super()
    this.spec = spec
    this.ctx = ctx
    this.snapshotIncremental = ctx.state.holdsValues ? undefined : (base) => this.deltas(base)
    this.processingTime = spec.assigner.time === 'processing'
    // v8: accumulators may hold Maps, Sets or bigints; slots hold NaN and infinite times.
    this.windows = new EntryCache(ctx.state, { name: WINDOWS, codec: 'v8' })
    this.eventTimers = ctx.state.timers('event')
    this.procTimers = ctx.state.timers('processing')
    const self = this
    this.tctx = {
      watermark: -Infinity,
      get now() {
        return self.ctx.clock.now()
      },
      registerEventTimer: (t) => {
        const slot = this.curSlot
        if (slot !== undefined) {
          if (slot.etimer === t) return
          slot.etimer = t
        }
        this.eventTimers.register(t, this.curId, this.curKey)
      },
      registerProcessingTimer: (t) => {
        this.procTimers.register(t, this.curId, this.curKey)
        this.ctx.scheduleProcessingTime(t)
      },
      state: 0,
    }
  }

  protected run(batch: Batch, out: Output, input: number, from: number): void {
    const { values, times } = batch
    const keys = batch.keys!
    const { assigner, aggregate, allowedLateness } = this.spec
    const bounds = this.bounds
    const now = this.processingTime ? this.ctx.clock.now() : 0
    const inlineTrigger = isBuiltinEventTimeTrigger(this.spec.trigger)
    for (let i = from; i < values.length; i++) {
      if (this.stopAt(i, from, batch, out, input)) return
      const v = values[i] as T
      const ts = this.processingTime ? now : times[i]
      const key = keys[i]
      const id = keyId(key)
      this.curId = id
      this.curKey = key
      const entry = this.windows.get(id) ?? this.windows.add(id, { key, slots: [], mark: -1 })
      this.changes.mark(entry)
      // A window combiner's partial (see partial.ts); records it passed on are handled as any other.
      if (isPartial(v)) {
        this.addPartial(entry, v as unknown as WindowPartial<unknown, A>)
        if (entry.slots.length === 0) this.windows.delete(id)
        continue
      }
      bounds.length = 0
      assigner.assign(ts, bounds)
      if (assigner.merging) {
        this.addMerging(entry, v, ts, bounds[0], bounds[1])
        if (entry.slots.length === 0) this.windows.delete(id)
        continue
      }
      let accepted = false
      for (let b = 0; b < bounds.length; b += 2) {
        const start = bounds[b]
        const end = bounds[b + 1]
        if (!this.processingTime && end - 1 + allowedLateness <= this.wm) continue
        accepted = true
        const slot = this.slotFor(entry, start, end, ts)
        slot.acc = aggregate.add(slot.acc, v)
        slot.dirty = true
        if (ts > slot.maxTs) slot.maxTs = ts
        if (ts < slot.minTs) slot.minTs = ts
        if (inlineTrigger) this.inlineElement(entry, slot)
        else this.onTrigger(entry, slot, this.callElement(slot))
      }
      if (!accepted) this.toLate(v, ts)
      if (entry.slots.length === 0) this.windows.delete(id)
    }
    this.windows.flush()
    this.flush(out)
  }

  /** The key's window starting at `start`, made (with its cleanup timer) if it is new. */
  private slotFor(entry: KeyEntry<A, R>, start: number, end: number, ts: number): Slot<A, R> {
    const slots = entry.slots
    for (let s = 0; s < slots.length; s++) if (slots[s].start === start) return slots[s]
    const slot: Slot<A, R> = { start, end, acc: this.spec.aggregate.create(), tstate: 0, dirty: false, emitted: false, last: undefined, maxTs: ts, minTs: ts, etimer: NaN }
    slots.push(slot)
    // Cleanup at end + lateness whatever the trigger: a trigger that sets no event timer (count, processing time) would otherwise keep the window forever.
    const allowedLateness = this.spec.allowedLateness
    if (!this.processingTime && Number.isFinite(end)) {
      this.eventTimers.register(end - 1 + allowedLateness, this.curId, this.curKey)
      if (allowedLateness === 0) slot.etimer = end - 1
    }
    return slot
  }

  /** The default event-time trigger, inlined: fire if the window's end has passed, else make sure its timer is set. */
  private inlineElement(entry: KeyEntry<A, R>, slot: Slot<A, R>): void {
    const end = slot.end
    if (end - 1 <= this.wm) this.fire(entry, slot)
    else if (slot.etimer !== end - 1) {
      slot.etimer = end - 1
      this.eventTimers.register(end - 1, this.curId, this.curKey)
    }
  }

  /**
   * A partial accumulator from a window combiner, merged as its records would have been added one by one.
   * The combiner sends only records whose windows are open at the watermark they arrive with, so a partial
   * finds its window closed only when a source came back from idleness behind the others: its records count
   * as late, but cannot go to the late output, which takes records.
   */
  private addPartial(entry: KeyEntry<A, R>, p: WindowPartial<unknown, A>): void {
    if (this.spec.assigner.merging) return this.addMerging(entry, undefined as T, p.maxTs, p.start, p.end, p)
    if (p.pane === true) return this.addPane(entry, p)
    if (p.end - 1 + this.spec.allowedLateness <= this.wm) {
      this.ctx.metrics.late += p.n
      return
    }
    const slot = this.slotFor(entry, p.start, p.end, p.minTs)
    this.mergeInto(slot, p)
    this.inlineElement(entry, slot)
  }

  /** A pane's partial (see WindowPartial), merged into each open window that holds the pane, as its records would be. */
  private addPane(entry: KeyEntry<A, R>, p: WindowPartial<unknown, A>): void {
    const { assigner, aggregate, allowedLateness } = this.spec
    const bounds = this.bounds
    bounds.length = 0
    assigner.assign(p.minTs, bounds)
    let accepted = false
    for (let b = 0; b < bounds.length; b += 2) {
      const end = bounds[b + 1]
      if (end - 1 + allowedLateness <= this.wm) continue
      const slot = this.slotFor(entry, bounds[b], end, p.minTs)
      // merge may keep or update its second accumulator: each window but the last merges a copy.
      const last = b + 2 >= bounds.length
      const acc = last || typeof p.acc !== 'object' || p.acc === null ? p.acc : structuredClone(p.acc)
      slot.acc = aggregate.merge(slot.acc, acc)
      slot.dirty = true
      if (p.maxTs > slot.maxTs) slot.maxTs = p.maxTs
      if (p.minTs < slot.minTs) slot.minTs = p.minTs
      this.inlineElement(entry, slot)
      accepted = true
    }
    if (!accepted) this.ctx.metrics.late += p.n
  }

  private mergeInto(slot: Slot<A, R>, p: { acc: A; minTs: number; maxTs: number }): void {
    slot.acc = this.spec.aggregate.merge(slot.acc, p.acc)
    slot.dirty = true
    if (p.maxTs > slot.maxTs) slot.maxTs = p.maxTs
    if (p.minTs < slot.minTs) slot.minTs = p.minTs
  }

  /** Adds record `v` at `ts` to the session `[s0, e0)`, or, given `partial`, merges that partial session. */
  private addMerging(entry: KeyEntry<A, R>, v: T, ts: number, s0: number, e0: number, partial?: { acc: A; n: number; minTs: number; maxTs: number }): void {
    const { aggregate, allowedLateness } = this.spec
    let start = s0
    let end = e0
    const slots = entry.slots
    const overlapping: Slot<A, R>[] = []
    for (const s of slots) {
      if (s.start <= e0 && s.end >= s0) {
        overlapping.push(s)
        if (s.start < start) start = s.start
        if (s.end > end) end = s.end
      }
    }
    if (end - 1 + allowedLateness <= this.wm) {
      if (partial === undefined) this.toLate(v, ts)
      else this.ctx.metrics.late += partial.n
      return
    }
    let target: Slot<A, R>
    if (overlapping.length === 0) {
      target = { start, end, acc: aggregate.create(), tstate: 0, dirty: false, emitted: false, last: undefined, maxTs: ts, minTs: partial?.minTs ?? ts, etimer: NaN }
      slots.push(target)
    } else {
      target = overlapping[0]
      for (const s of overlapping) {
        // A window whose bounds change is a different window: retract what was emitted for it.
        if (s.emitted && (s !== target || s.start !== start || s.end !== end)) {
          this.out.pushKind({ key: entry.key, start: s.start, end: s.end, value: s.last as R }, this.resultTime(s), DELETE)
          s.emitted = false
        }
        if (s !== target) {
          target.acc = aggregate.merge(target.acc, s.acc)
          if (s.maxTs > target.maxTs) target.maxTs = s.maxTs
          const mergeState = this.spec.trigger.mergeState
          target.tstate = mergeState === undefined ? target.tstate + s.tstate : mergeState(target.tstate, s.tstate)
          slots.splice(slots.indexOf(s), 1)
        }
      }
      target.start = start
      target.end = end
    }
    if (!this.processingTime) this.eventTimers.register(end - 1 + allowedLateness, this.curId, entry.key)
    if (partial !== undefined) this.mergeInto(target, partial)
    else {
      target.acc = aggregate.add(target.acc, v)
      target.dirty = true
      if (ts > target.maxTs) target.maxTs = ts
    }
    this.onTrigger(entry, target, this.callElement(target))
  }

  private callElement(slot: Slot<A, R>): TriggerResult {
    this.tctx.state = slot.tstate
    this.curSlot = slot
    const r = this.spec.trigger.onElement(slot.start, slot.end, this.tctx)
    this.curSlot = undefined
    slot.tstate = this.tctx.state
    return r
  }

  private onTrigger(entry: KeyEntry<A, R>, slot: Slot<A, R>, r: TriggerResult): void {
    if (r === 'continue') return
    if (r === 'fire' || r === 'fire-purge') this.fire(entry, slot)
    if (r === 'purge' || r === 'fire-purge') {
      slot.acc = this.spec.aggregate.create()
      slot.dirty = false
      slot.emitted = false
      slot.last = undefined
      slot.minTs = Infinity
      slot.maxTs = -Infinity
    }
  }

  private resultTime(slot: Slot<A, R>): number {
    return Number.isFinite(slot.end) ? slot.end - 1 : slot.maxTs
  }

  private fire(entry: KeyEntry<A, R>, slot: Slot<A, R>, incomplete = false): void {
    if (!slot.dirty && slot.emitted) return
    const value = this.spec.aggregate.result(slot.acc)
    const t = this.resultTime(slot)
    if (slot.emitted) {
      this.out.pushKind({ key: entry.key, start: slot.start, end: slot.end, value: slot.last as R }, t, UPDATE_BEFORE)
      this.out.pushKind({ key: entry.key, start: slot.start, end: slot.end, value }, t, UPDATE_AFTER)
    } else if (this.spec.assigner.boundsFromRecords === true) {
      // Count windows purge on firing, so each result is a new row: no earlier bounds to retract.
      const start = Number.isFinite(slot.minTs) ? slot.minTs : slot.maxTs // snapshots before minTs existed
      const row: WindowResult<unknown, R> = { key: entry.key, start, end: slot.maxTs + 1, value }
      if (incomplete) row.incomplete = true
      this.out.pushKind(row, t, INSERT)
    } else {
      this.out.pushKind({ key: entry.key, start: slot.start, end: slot.end, value }, t, INSERT)
    }
    slot.emitted = true
    slot.dirty = false
    slot.last = value
  }

  private toLate(v: T, ts: number): void {
    this.late.push({ step: this.ctx.stepId, reason: 'window-closed', time: ts, watermark: this.wm, record: v }, ts)
  }

  onWatermark(watermark: number, out: Output): void {
    this.wm = watermark
    this.tctx.watermark = watermark
    this.lookSoon()
    this.fireDue('event', watermark, out)
  }

  onProcessingTime(now: number, out: Output): void {
    this.lookSoon()
    this.fireDue('processing', now, out)
  }

  /** Fires the due timers of one clock, then emits; a slow result function stops it between keys (see PausableBatches). */
  private fireDue(domain: 'event' | 'processing', upTo: number, out: Output): void {
    if (!this.fireTimers(domain, upTo)) return this.stopped(() => this.fireDue(domain, upTo, out))
    this.flush(out)
  }

  private readonly firing = new TimerFiring()
  private readonly looks = (): boolean => this.looked()

  /**
   * Runs due timers of one clock: asks the trigger about each window of the timer's key, then drops expired
   * windows. False when it stopped between two keys (the rest fires on the next call).
   */
  private fireTimers(domain: 'event' | 'processing', upTo: number): boolean {
    const { trigger, allowedLateness } = this.spec
    const event = domain === 'event'
    const expired = event ? (time: number, slot: Slot<A, R>) => slot.end - 1 + allowedLateness <= time : this.processingTime ? (time: number, slot: Slot<A, R>) => slot.end - 1 <= time : () => false
    return this.firing.fire(
      event ? this.eventTimers : this.procTimers,
      upTo,
      (time, id, key) => {
        const entry = this.windows.get(id)
        if (entry === undefined) return
        this.changes.mark(entry)
        this.curId = id
        this.curKey = key
        const slots = entry.slots
        for (let s = 0; s < slots.length; s++) {
          const slot = slots[s]
          this.tctx.state = slot.tstate
          const r = event ? trigger.onEventTime(time, slot.start, slot.end, this.tctx) : trigger.onProcessingTime(time, slot.start, slot.end, this.tctx)
          slot.tstate = this.tctx.state
          this.onTrigger(entry, slot, r)
          if (expired(time, slot)) {
            slots.splice(s, 1)
            s--
          }
        }
        if (slots.length === 0) this.windows.delete(id)
      },
      this.looks,
      () => this.windows.flush(),
    )
  }

  /**
   * End of a bounded input: whatever a trigger has not fired yet (global, processing time) fires now;
   * count windows short of their size are dropped, or fired marked incomplete, as their assigner says.
   */
  finish(out: Output): void {
    const atEnd = this.spec.assigner.atEnd ?? 'fire'
    const ids: unknown[] = []
    this.ctx.state.forEachValue<KeyEntry<A, R>>(WINDOWS, (id, entry) => {
      ids.push(id)
      this.changes.mark(entry)
      for (const slot of entry.slots) {
        if (!slot.dirty) continue
        // A count window's trigger state is the number of records it holds.
        if (atEnd === 'drop') this.ctx.metrics.dropped += slot.tstate
        else this.fire(entry, slot, atEnd === 'fire-incomplete')
      }
    })
    for (const id of ids) this.windows.delete(id)
    this.flush(out)
  }

  private flush(out: Output): void {
    flushOutputs(this.ctx, out, this.out, this.late, this.spec.lateTag)
  }

  /**
   * Read-only view of one key's windows for the control plane's "why has this window not fired" explainer:
   * the operator's watermark, its trigger and lateness, the windows `time` falls in, and the open windows
   * of the key (matched by its JSON text, or its string form for a string key). Never changes state.
   * @example op.inspect('eu', Date.now()).windows // [{ start, end, records: true, fired: false, ... }]
   */
  inspect(key: string, time: number): WindowInspection {
    let entry: KeyEntry<A, R> | undefined
    this.ctx.state.forEachValue<KeyEntry<A, R>>(WINDOWS, (_id, e) => {
      if (entry === undefined && (typeof e.key === 'string' ? e.key : JSON.stringify(e.key)) === key) entry = e
    })
    const bounds: number[] = []
    if (!this.spec.assigner.merging && this.spec.assigner.time === 'event') this.spec.assigner.assign(time, bounds)
    const assigned: { start: number; end: number }[] = []
    for (let b = 0; b < bounds.length; b += 2) assigned.push({ start: bounds[b], end: bounds[b + 1] })
    return {
      watermark: this.wm,
      allowedLateness: this.spec.allowedLateness,
      trigger: this.spec.trigger.describe,
      assigner: this.spec.assigner.describe,
      keyFound: entry !== undefined,
      assigned,
      open: (entry?.slots ?? []).map((s) => ({ start: s.start, end: s.end, triggerState: s.tstate, pending: s.dirty, fired: s.emitted, minTs: s.minTs, maxTs: s.maxTs })),
    }
  }

  /** Keys holding state now (for the run summary). */
  keysHeld(): number {
    return this.ctx.state.sizes()[`value:${WINDOWS}`] ?? 0
  }

  /** Per key: its windows and its timers of both clocks; the watermark is shared. */
  snapshot(): KeyedSnapshot {
    this.changes.stop()
    const state = this.ctx.state
    const w = new KeyedSnapshotWriter(state.keyGroups)
    w.timers('event', this.eventTimers)
    w.timers('processing', this.procTimers)
    return snapshotOf(state, w, (kg) => state.forEachValue<KeyEntry<A, R>>(WINDOWS, (_id, e) => w.add('windows', e.key, e.slots), kg), { wm: this.wm })
  }

  /**
   * A full snapshot that starts change tracking, or the keys changed since the previous call, each with all its
   * windows and timers: a key changes when a record reaches it, a timer of it fires, or its windows go at the
   * end of input. Timers fired for a key without windows leave it unchanged: restored, they find nothing.
   */
  private deltas(base: boolean): KeyedSnapshot {
    const timers: [string, TimerService][] = [['event', this.eventTimers], ['processing', this.procTimers]]
    return this.changes.incremental(
      base,
      () => this.snapshot(),
      () => this.changes.delta(this.ctx.state, this.ctx.stepId, (id) => this.windows.state.get(id), (w, e) => w.add('windows', e.key, e.slots), timers, { wm: this.wm }),
    )
  }

  /** A row per open window of every key: its accumulator as `value`, the result it last fired as `result`. */
  *stateRows(): Iterable<StateRow> {
    for (const [key, slots] of snapshotEntries<Slot<A, R>[]>(this.snapshot(), 'windows')) {
      for (const s of slots) yield { key, window: { start: s.start, end: s.end }, value: s.acc, ...(s.emitted ? { result: s.last } : {}) }
    }
  }

  /**
   * The state API (writeSavepoint): an open window `row.window` of `row.key` holding `row.value` as its
   * accumulator, as if records had filled it; it fires at its end, with the records the restored job adds to
   * it. Event-time windows with bounds of their own (tumbling, sliding, session); a session overlapping one
   * given before is merged with it, as records would merge them.
   */
  bootstrapState(row: StateRow): void {
    const step = this.ctx.stepId
    const { assigner } = this.spec
    const { start, end } = bootstrapWindow(row, assigner, step)
    const id = keyId(row.key)
    this.curId = id
    this.curKey = row.key
    const entry = this.windows.get(id) ?? this.windows.add(id, { key: row.key, slots: [], mark: -1 })
    this.changes.mark(entry)
    if (assigner.merging) this.addMerging(entry, undefined as T, start, start, end, { acc: row.value as A, n: 0, minTs: start, maxTs: start })
    else {
      if (entry.slots.some((x) => x.start === start)) throw twoRows(step, row.key, start, end)
      const slot = this.slotFor(entry, start, end, start)
      slot.acc = row.value as A
      slot.dirty = true
      if (isBuiltinEventTimeTrigger(this.spec.trigger)) this.inlineElement(entry, slot)
      else this.onTrigger(entry, slot, this.callElement(slot))
    }
    this.windows.flush()
  }

  restore(state: unknown): void {
    const r = checkRestore(state, this.ctx.state.keyGroups, this.ctx.stepId)
    this.wm = minShared(r, 'wm')
    this.tctx.watermark = this.wm
    this.changes.stop()
    this.windows.reset()
    this.ctx.state.restore({ format: 'sluice-keyed-state/1', keyGroups: r.keyGroups, states: {}, groups: {} })
    const procTimes = new Set<number>()
    restoreEntries(
      r,
      {
        windows: (key, slots: Slot<A, R>[]) => this.windows.state.set(keyId(key), { key, slots, mark: -1 }),
        event: timersInto(this.eventTimers),
        processing: timersInto(this.procTimers, procTimes),
      },
      this.ctx.state.insertionOrdered,
    )
    for (const t of procTimes) this.ctx.scheduleProcessingTime(t)
  }
}
