import { BatchBuilder, DELETE, INSERT, UPDATE_BEFORE, type Batch, type Position, type RowKind } from '../../core/batch.ts'
import { flushOutputs } from '../flush-outputs.ts'
import { keyId } from '../../core/key.ts'
import type { KeyedSnapshot, Operator, OperatorContext, Output, StateRow } from '../../core/operator.ts'
import type { TimerService } from '../../core/state-backend.ts'
import { ChangeTracker } from '../change-tracker.ts'
import { checkRestore, KeyedSnapshotWriter, restoreEntries, snapshotEntries, timersInto } from '../keyed-snapshot.ts'
import { userError } from '../../core/errors.ts'
import { keyLabel } from '../window/bootstrap-window.ts'
import { bootstrapSides } from './bootstrap-sides.ts'
import type { JoinType } from './join-types.ts'
import { HeapJoinKeys, type JoinKeys, type KeyChange, type KeyEntry, type SideSnapshot, type SideState, sideSize } from './regular-join-state.ts'
import { StoreJoinKeys } from './regular-join-rows.ts'
import { PausableBatches } from '../pausable.ts'

/**
 * The time a regular join's TTL counts in. `processing` (the default, as Flink's state TTL): the run's injected
 * clock (`OperatorContext.clock`), so a side lives `ttl` ms of wall time after its last write and what still
 * matches depends on how fast records arrive. `event`: the watermark, so a side lives until the watermark
 * passes its latest written record's event time plus `ttl`, and a replay gives the same output as the live run.
 */
export type JoinTtlTime = 'processing' | 'event'

export interface RegularJoinSpec {
  /** How long a side's rows of a key are kept after that side was last written, in ms of `ttlTime`. */
  ttl: number
  /** Default 'processing'. */
  ttlTime?: JoinTtlTime
  type: JoinType
  fn: (left: unknown, right: unknown) => unknown
}

/** How sides were saved before the parallel arrays. */
type OldSideSnapshot = [([unknown, number] | { value: unknown; matches: number })[], number, number]

/** The name of the keys' value state in the step's state backend. */
const KEYS = 'regular-join'

const isRetraction = (k: RowKind | undefined): boolean => k === UPDATE_BEFORE || k === DELETE

/**
 * Regular (unwindowed) join, as Flink SQL's streaming join: every row of one side meets every row of the
 * other with the same key, in either arrival order. Inner joins of insert-only inputs emit inserts; outer
 * types emit a changelog in which a null-padded row is deleted when its first match arrives and inserted
 * again when its last match is retracted. Retractions in the input (-U/-D) remove one equal stored row and
 * retract what it produced. A side's rows of a key expire `ttl` ms after that side was last written, in
 * processing time read from the injected clock (Flink's state TTL) or, with `ttlTime: 'event'`, in event time
 * as the watermark passes: they are dropped silently, nothing is emitted for them.
 * @example new RegularJoinOperator({ ttl: 3_600_000, ttlTime: 'event', type: 'left', fn: (o, p) => ({ o, p }) }, ctx)
 */
export class RegularJoinOperator extends PausableBatches implements Operator {
  private readonly spec: RegularJoinSpec
  private readonly ctx: OperatorContext
  /** Both sides of each key, in the step's state backend: live entries on the heap, rows in the durable store. */
  private readonly keys: JoinKeys
  private readonly timers: [TimerService, TimerService]
  private readonly outer: [boolean, boolean]
  private readonly out = new BatchBuilder()
  /** Set while one input record is processed, for error reports. */
  private record: unknown = undefined
  private pos: Position | undefined = undefined
  /** The keys changed since the last incremental snapshot. */
  private readonly changes = new ChangeTracker<KeyChange>()
  private readonly eventTime: boolean

  constructor(spec: RegularJoinSpec, ctx: OperatorContext) {
    super()
    this.spec = spec
    this.eventTime = spec.ttlTime === 'event'
    this.ctx = ctx
    this.keys = ctx.state.holdsValues ? new HeapJoinKeys(ctx.state, KEYS) : new StoreJoinKeys(ctx.state, KEYS)
    this.timers = [ctx.state.timers('left'), ctx.state.timers('right')]
    this.outer = [spec.type === 'left' || spec.type === 'full', spec.type === 'right' || spec.type === 'full']
  }

  protected run(batch: Batch, out: Output, input: number, from: number): void {
    const { values, times, kinds, pos } = batch
    const keys = batch.keys!
    const now = this.ctx.clock.now()
    for (let i = from; i < values.length; i++) {
      if (this.stopAt(i, from, batch, out, input)) {
        this.record = undefined
        this.pos = undefined
        return
      }
      const key = keys[i]
      const id = keyId(key)
      const retraction = isRetraction(kinds?.[i])
      const entry = this.keys.open(id, key, input, retraction)
      const change = this.changes.tracking ? this.track(id, entry) : undefined
      this.record = values[i]
      this.pos = pos?.[i]
      const written = retraction ? this.retract(entry, change, input, values[i], times[i]) : this.accumulate(entry, change, input, values[i], times[i])
      const at = this.eventTime ? times[i] : now
      for (let side = 0; side < 2; side++) if (written[side]) this.touch(entry, change, id, side, at)
      this.keys.close(id, entry)
    }
    this.record = undefined
    this.pos = undefined
    this.flush(out)
  }

  /** The change record of a key while tracking is on; the first change in an interval notes the rows it kept. */
  private track(id: unknown, entry: KeyEntry): KeyChange {
    const c = this.keys.change(id, entry)
    if (this.changes.unlisted(c)) c.kept = [sideSize(entry, 0), sideSize(entry, 1)]
    return c
  }

  /** Notes that the match counts of side `o`'s rows changed, some of which the last snapshot holds. */
  private recount(change: KeyChange | undefined, o: number): void {
    if (change?.old !== undefined && change.kept !== undefined && change.kept[o] > 0) change.old[o] = true
  }

  /** Adds a row to side `s`; returns which sides' state changed. */
  private accumulate(entry: KeyEntry, change: KeyChange | undefined, s: number, v: unknown, t: number): [boolean, boolean] {
    const o = 1 - s
    const others = entry.sides[o].values
    const counts = entry.sides[o].matches
    const otherOuter = this.outer[o]
    if (others.length > 0) this.recount(change, o)
    if (others.length === 0) {
      if (this.outer[s]) this.emit(s, v, null, t, INSERT)
    } else {
      for (let i = 0; i < others.length; i++) {
        if (otherOuter && counts[i] === 0) this.emit(o, others[i], null, t, DELETE)
        counts[i]++
        this.emit(s, v, others[i], t, INSERT)
      }
    }
    entry.sides[s].values.push(v)
    entry.sides[s].matches.push(others.length)
    return s === 0 ? [true, otherOuter && others.length > 0] : [otherOuter && others.length > 0, true]
  }

  /** Removes one row equal to `v` from side `s` and retracts its results; a row not held (expired) is ignored. */
  private retract(entry: KeyEntry, change: KeyChange | undefined, s: number, v: unknown, t: number): [boolean, boolean] {
    const side = entry.sides[s]
    const json = JSON.stringify(v)
    const at = side.values.findIndex((x) => JSON.stringify(x) === json)
    if (at < 0) return [false, false]
    const value = side.values[at]
    side.values.splice(at, 1)
    side.matches.splice(at, 1)
    if (change?.kept !== undefined && change.kept[s] > at) change.kept[s] = at
    const o = 1 - s
    const others = entry.sides[o].values
    const counts = entry.sides[o].matches
    const otherOuter = this.outer[o]
    if (others.length > 0) this.recount(change, o)
    if (others.length === 0) {
      if (this.outer[s]) this.emit(s, value, null, t, DELETE)
    } else {
      for (let i = 0; i < others.length; i++) {
        this.emit(s, value, others[i], t, DELETE)
        if (counts[i] > 0) {
          counts[i]--
          if (otherOuter && counts[i] === 0) this.emit(o, others[i], null, t, INSERT)
        }
      }
    }
    return s === 0 ? [true, otherOuter && others.length > 0] : [otherOuter && others.length > 0, true]
  }

  /** Emits `fn` over a row `v` of side `s` and a row `w` of the other side (null for padding). */
  private emit(s: number, v: unknown, w: unknown, t: number, kind: RowKind): void {
    let r: unknown
    try {
      r = s === 0 ? this.spec.fn(v, w) : this.spec.fn(w, v)
    } catch (e) {
      this.ctx.errors.report(this.ctx.stepId, e, this.record, t, this.pos)
      return
    }
    this.out.pushKind(r, t, kind)
  }

  /**
   * A side of a key was written at `at` (the clock's time, or the record's event time): it now lives until
   * `at + ttl` (in event time, never less than before: records arrive out of order). One cleanup timer is
   * pending at a time. A record without an event time does not move an event-time expiry.
   */
  private touch(entry: KeyEntry, change: KeyChange | undefined, id: unknown, side: number, at: number): void {
    const st = entry.sides[side]
    if (change !== undefined) this.changes.mark(change)
    if (!this.eventTime) st.expiresAt = at + this.spec.ttl
    else if (Number.isFinite(at)) st.expiresAt = Math.max(st.expiresAt, at + this.spec.ttl)
    else return
    if (st.timer < 0) {
      st.timer = st.expiresAt
      this.timers[side].register(st.timer, id, entry.key)
      if (!this.eventTime) this.ctx.scheduleProcessingTime(st.timer)
    }
  }

  onProcessingTime(now: number, out: Output): void {
    if (!this.eventTime) this.expire(now)
    this.flush(out)
  }

  onWatermark(watermark: number, out: Output): void {
    if (!this.eventTime) return
    this.expire(watermark)
    this.flush(out)
  }

  /** Drops the sides whose expiry `now` (processing time, or the watermark) has reached. */
  private expire(now: number): void {
    for (let side = 0; side < 2; side++) {
      const q = this.timers[side]
      for (let due = q.pollUpTo(now); due !== undefined; due = q.pollUpTo(now)) {
        for (const id of due.keys.keys()) {
          const entry = this.keys.peek(id)
          if (entry === undefined) continue
          const st = entry.sides[side]
          if (st.timer !== due.time) continue
          const change = this.changes.tracking ? this.track(id, entry) : undefined
          if (change !== undefined) this.changes.mark(change)
          st.timer = -1
          if (st.expiresAt <= now) {
            this.keys.clearSide(entry, side)
            if (change?.kept !== undefined) change.kept[side] = 0
          } else {
            // Written since the timer was set: check again when the new expiry comes.
            st.timer = st.expiresAt
            q.register(st.timer, id, entry.key)
            if (!this.eventTime) this.ctx.scheduleProcessingTime(st.timer)
          }
          this.keys.close(id, entry)
        }
      }
    }
  }

  private flush(out: Output): void {
    flushOutputs(this.ctx, out, this.out)
  }

  /** Keys holding state now (for the run summary). */
  keysHeld(): number {
    return this.ctx.state.sizes()[`value:${KEYS}`] ?? 0
  }

  /** Per key: the rows of both sides with their expiry, and the key's cleanup timers. Nothing is shared. */
  snapshot(): KeyedSnapshot {
    this.changes.stop()
    this.keys.forget()
    const w = new KeyedSnapshotWriter(this.ctx.state.keyGroups)
    const lazy = this.keys.snapshot(w, () => {
      w.timers('left', this.timers[0])
      w.timers('right', this.timers[1])
    })
    return lazy === undefined ? w.build(undefined) : { keyGroups: w.keyGroups, groups: lazy }
  }

  /**
   * A full snapshot that starts change tracking, or the keys changed since the previous call: a key changes
   * when a row is added or removed, a match count changes, a side is written or expires, or a timer is set
   * again. A key that held rows at the last snapshot is written as a RowPatch: per side, the rows added since
   * (after those kept from the start), the match counts, expiry and timer. A changed key's timers are written
   * from its sides (the timer each side waits for), not from the queue, which may still hold timers that will
   * find nothing to do.
   */
  snapshotIncremental(base: boolean): KeyedSnapshot {
    if (base) {
      const s = this.snapshot()
      this.changes.start()
      return s
    }
    const d = this.changes.delta(this.ctx.state, this.ctx.stepId, (id, c) => this.keys.current(id, c), (w, c) => this.keys.writeDelta(w, c))
    this.keys.forget()
    return d
  }

  /** A row per key: the rows each side keeps `{ left, right }` (a full snapshot's reading: it ends change tracking). */
  *stateRows(): Iterable<StateRow> {
    for (const [key, [l, r]] of snapshotEntries<[SideSnapshot, SideSnapshot]>(this.snapshot(), 'rows')) yield { key, value: { left: l[0], right: r[0] } }
  }

  /**
   * The state API (writeSavepoint): key `row.key` holding the records `row.value.left` and `row.value.right`
   * (arrays), as if they had arrived and met each other (their results are not emitted again). Each side lives
   * `ttl` after `row.time`, the time it was last written in the TTL's clock: by default, for a processing-time
   * TTL, when the savepoint is written (Flink's State Processor API does so too); an event-time TTL needs it.
   */
  bootstrapState(row: StateRow): void {
    const step = this.ctx.stepId
    const { left, right } = bootstrapSides(row, step)
    const at = row.time ?? (this.eventTime ? undefined : this.ctx.clock.now())
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      const why = at === undefined ? 'needs time: the event time its sides were last written (this join keeps rows for ttl in event time)' : 'has a time that is not a finite number of epoch ms'
      throw userError('SLUICE_STATE_BOOTSTRAP', `step '${step}': the state row of key ${keyLabel(row.key)} ${why}`, { step })
    }
    const id = keyId(row.key)
    if (this.keys.peek(id) !== undefined) throw userError('SLUICE_STATE_BOOTSTRAP', `step '${step}': two state rows for key ${keyLabel(row.key)}`, { step })
    const side = (values: unknown[], others: number): SideState => ({ values, matches: values.map(() => others), expiresAt: values.length > 0 ? at + this.spec.ttl : -1, timer: -1 })
    const entry: KeyEntry = { key: row.key, sides: [side(left, right.length), side(right, left.length)], mark: -1 }
    for (let s = 0; s < 2; s++) {
      const st = entry.sides[s]
      if (st.values.length === 0) continue
      st.timer = st.expiresAt
      this.timers[s].register(st.timer, id, row.key)
    }
    this.keys.put(id, row.key, entry.sides)
  }

  restore(state: unknown): void {
    const r = checkRestore(state, this.ctx.state.keyGroups, this.ctx.stepId)
    const side = (saved: SideSnapshot | OldSideSnapshot): SideState => {
      if (saved.length === 4) return { values: saved[0], matches: saved[1], expiresAt: saved[2], timer: saved[3] }
      // Snapshots before the parallel arrays: `[rows, expiresAt, timer]`, a row `[value, matches]` or `{ value, matches }`.
      const [rows, expiresAt, timer] = saved
      const pairs = rows.map((r) => (Array.isArray(r) ? r : [r.value, r.matches]))
      return { values: pairs.map((p) => p[0]), matches: pairs.map((p) => p[1] as number), expiresAt, timer }
    }
    this.changes.stop()
    this.keys.forget()
    this.ctx.state.restore({ format: 'sluice-keyed-state/1', keyGroups: r.keyGroups, states: {}, groups: {} })
    const times = new Set<number>()
    restoreEntries(
      r,
      {
        rows: (key, [l, rt]: [SideSnapshot | OldSideSnapshot, SideSnapshot | OldSideSnapshot]) => this.keys.put(keyId(key), key, [side(l), side(rt)]),
        left: timersInto(this.timers[0], times),
        right: timersInto(this.timers[1], times),
      },
      this.ctx.state.insertionOrdered,
    )
    if (!this.eventTime) for (const t of times) this.ctx.scheduleProcessingTime(t)
  }
}
