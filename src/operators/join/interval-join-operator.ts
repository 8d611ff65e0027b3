import { BatchBuilder, type Batch } from '../../core/batch.ts'
import { flushOutputs } from '../flush-outputs.ts'
import { keyId } from '../../core/key.ts'
import type { KeyedSnapshot, Operator, OperatorContext, Output, StateRow } from '../../core/operator.ts'
import type { TimerService } from '../../core/state-backend.ts'
import { EntryCache } from '../../state/entry-cache.ts'
import { checkRestore, KeyedSnapshotWriter, minShared, restoreEntries, snapshotEntries, snapshotOf, timersInto } from '../keyed-snapshot.ts'
import type { JoinLateRecord } from './join-types.ts'
import { userError } from '../../core/errors.ts'
import { keyLabel } from '../window/bootstrap-window.ts'
import { bootstrapSides } from './bootstrap-sides.ts'
import { PausableBatches } from '../pausable.ts'
import { ChangeTracker } from '../change-tracker.ts'

export interface IntervalJoinSpec {
  lower: number
  upper: number
  type: 'inner' | 'left'
  fn: (left: unknown, right: unknown) => unknown
}

/** Records of one side and key that share a timestamp. `matched` is kept for the left side of a left join. */
interface Bucket {
  values: unknown[]
  matched: boolean[]
}

/** One side's buffer of one key: buckets by timestamp, with their times sorted for range lookups and prefix cleanup. */
interface SideBuffer {
  times: number[]
  buckets: Map<number, Bucket>
}

interface KeyEntry {
  key: unknown
  sides: [SideBuffer, SideBuffer]
  /** The tracking epoch in which the key last changed (see snapshotIncremental; -1: never). */
  mark: number
}

type SideSnapshot = [number, unknown[], boolean[]][]

/** The name of the buffers' value state in the step's state backend. */
const BUFFERS = 'buffers'

/** Index of the first element of sorted `a` that is >= `x`. */
function lowerBound(a: number[], x: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid] < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Flink's interval join: a left record at `t` meets the right records of its key timed in
 * `[t + lower, t + upper]`, whichever arrives first; a pair is emitted at once, at the later of the two
 * times. The watermark frees buffered records: a left one once it passes `t + upper`, a right one once it
 * passes `r - lower`. A record older than the watermark is late and goes to the `late` output. With type
 * `left`, a left record that never matched is emitted as `fn(l, null)` (at `t`) when it is freed. A key's
 * buffers live in the step's state backend, its cleanup timers in the backend's timer queues.
 */
export class IntervalJoinOperator extends PausableBatches implements Operator {
  private readonly spec: IntervalJoinSpec
  private readonly ctx: OperatorContext
  private readonly keys: EntryCache<KeyEntry>
  /** Keys changed since the last snapshot, while deltas are taken. */
  private readonly changes = new ChangeTracker<KeyEntry>()
  /** Incremental snapshots on a store backend only, as a window step takes them (see WindowOperator.snapshotIncremental). */
  readonly snapshotIncremental: ((base: boolean) => KeyedSnapshot) | undefined
  /** Cleanup timers per side, at the first watermark that frees a bucket. */
  private readonly timers: [TimerService, TimerService]
  private readonly leftOuter: boolean
  private readonly out = new BatchBuilder()
  private readonly late = new BatchBuilder<JoinLateRecord>()
  private wm = -Infinity

  constructor(spec: IntervalJoinSpec, ctx: OperatorContext) {
    super()
    this.spec = spec
    this.ctx = ctx
    this.snapshotIncremental = ctx.state.holdsValues ? undefined : (base) => this.deltas(base)
    this.leftOuter = spec.type === 'left'
    // v8: records may hold Maps, Dates or bigints, and buckets are Maps.
    this.keys = new EntryCache(ctx.state, { name: BUFFERS, codec: 'v8' })
    this.timers = [ctx.state.timers('left'), ctx.state.timers('right')]
  }

  /** Watermark past which a record of `side` at `t` can meet nothing new. */
  private expiry(side: number, t: number): number {
    return side === 0 ? t + this.spec.upper : t - this.spec.lower
  }

  protected run(batch: Batch, out: Output, input: number, from: number): void {
    const { values, times, pos } = batch
    const keys = batch.keys!
    const { lower, upper, fn } = this.spec
    const other = 1 - input
    const trackMatches = input === 0 && this.leftOuter
    for (let i = from; i < values.length; i++) {
      if (this.stopAt(i, from, batch, out, input)) return
      const v = values[i]
      const t = times[i]
      if (t < this.wm) {
        this.late.push({ step: this.ctx.stepId, reason: 'interval-closed', time: t, watermark: this.wm, record: v, side: input === 0 ? 'left' : 'right' }, t)
        continue
      }
      const key = keys[i]
      const id = keyId(key)
      const entry = this.keys.get(id) ?? this.keys.add(id, { key, sides: [{ times: [], buckets: new Map() }, { times: [], buckets: new Map() }], mark: -1 })
      this.changes.mark(entry)
      // The other side's matching range: rights in [t + lower, t + upper] for a left; lefts in [r - upper, r - lower] for a right.
      const lo = input === 0 ? t + lower : t - upper
      const hi = input === 0 ? t + upper : t - lower
      const buf = entry.sides[other]
      let matched = false
      for (let j = lowerBound(buf.times, lo); j < buf.times.length && buf.times[j] <= hi; j++) {
        const ot = buf.times[j]
        const bucket = buf.buckets.get(ot)!
        const outTime = ot > t ? ot : t
        for (let k = 0; k < bucket.values.length; k++) {
          matched = true
          if (other === 0) bucket.matched[k] = true
          let r: unknown
          try {
            r = input === 0 ? fn(v, bucket.values[k]) : fn(bucket.values[k], v)
          } catch (e) {
            this.ctx.errors.report(this.ctx.stepId, e, v, t, pos?.[i])
            continue
          }
          this.out.push(r, outTime)
        }
      }
      const exp = this.expiry(input, t)
      if (exp < this.wm) {
        // Nothing newer can match it any more: do not keep it.
        if (trackMatches && !matched) this.padLeft(v, t)
      } else {
        this.add(entry.sides[input], v, t, matched)
        this.timers[input].register(Math.floor(exp) + 1, id, key)
      }
      if (entry.sides[0].times.length === 0 && entry.sides[1].times.length === 0) this.keys.delete(id)
    }
    this.keys.flush()
    this.flush(out)
  }

  private add(buf: SideBuffer, v: unknown, t: number, matched: boolean): void {
    let bucket = buf.buckets.get(t)
    if (bucket === undefined) {
      bucket = { values: [], matched: [] }
      buf.buckets.set(t, bucket)
      const n = buf.times.length
      if (n === 0 || buf.times[n - 1] < t) buf.times.push(t)
      else buf.times.splice(lowerBound(buf.times, t), 0, t)
    }
    bucket.values.push(v)
    bucket.matched.push(matched)
  }

  private padLeft(v: unknown, t: number): void {
    let r: unknown
    try {
      r = this.spec.fn(v, null)
    } catch (e) {
      this.ctx.errors.report(this.ctx.stepId, e, v, t, undefined)
      return
    }
    this.out.push(r, t)
  }

  onWatermark(watermark: number, out: Output): number | void {
    this.wm = watermark
    for (let side = 0; side < 2; side++) {
      const q = this.timers[side]
      for (let due = q.pollUpTo(watermark); due !== undefined; due = q.pollUpTo(watermark)) {
        for (const id of due.keys.keys()) {
          const entry = this.keys.get(id)
          if (entry === undefined) continue
          this.changes.mark(entry)
          this.cleanup(entry.sides[side], side, watermark)
          if (entry.sides[0].times.length === 0 && entry.sides[1].times.length === 0) this.keys.delete(id)
        }
        this.keys.flush()
      }
    }
    this.flush(out)
    // A left row still buffered may later be emitted unmatched at its own time t >= watermark - upper.
    if (this.leftOuter && this.spec.upper > 0) return watermark - this.spec.upper - 1
  }

  /** Drops the buckets of one side that the watermark has passed, padding unmatched lefts of a left join. */
  private cleanup(buf: SideBuffer, side: number, watermark: number): void {
    const times = buf.times
    let n = 0
    while (n < times.length && this.expiry(side, times[n]) < watermark) {
      const t = times[n]
      if (side === 0 && this.leftOuter) {
        const bucket = buf.buckets.get(t)!
        for (let k = 0; k < bucket.values.length; k++) if (!bucket.matched[k]) this.padLeft(bucket.values[k], t)
      }
      buf.buckets.delete(t)
      n++
    }
    if (n > 0) times.splice(0, n)
  }

  private flush(out: Output): void {
    flushOutputs(this.ctx, out, this.out, this.late)
  }

  /** Keys holding state now (for the run summary). */
  keysHeld(): number {
    return this.ctx.state.sizes()[`value:${BUFFERS}`] ?? 0
  }

  /** Per key: the buffered records of both sides and the key's cleanup timers; the watermark is shared. */
  snapshot(): KeyedSnapshot {
    this.changes.stop()
    const state = this.ctx.state
    const w = new KeyedSnapshotWriter(state.keyGroups)
    w.timers('left', this.timers[0])
    w.timers('right', this.timers[1])
    return snapshotOf(state, w, (kg) => state.forEachValue<KeyEntry>(BUFFERS, (_id, e) => addBuffers(w, e), kg), { wm: this.wm })
  }

  /**
   * A full snapshot that starts change tracking, or the keys changed since the previous call, each with its
   * buffers of both sides and its timers: a key changes when a record reaches it or the watermark frees
   * records of it.
   */
  private deltas(base: boolean): KeyedSnapshot {
    const timers: [string, TimerService][] = [['left', this.timers[0]], ['right', this.timers[1]]]
    return this.changes.incremental(
      base,
      () => this.snapshot(),
      () => this.changes.delta(this.ctx.state, this.ctx.stepId, (id) => this.keys.state.get(id), addBuffers, timers, { wm: this.wm }),
    )
  }

  /** A row per key: its buffered records `{ left, right }`, each `{ time, value }` in time order. */
  *stateRows(): Iterable<StateRow> {
    const records = (snap: SideSnapshot) => snap.flatMap(([time, values]) => values.map((value) => ({ time, value })))
    for (const [key, [l, r]] of snapshotEntries<[SideSnapshot, SideSnapshot]>(this.snapshot(), 'buffers')) yield { key, value: { left: records(l), right: records(r) } }
  }

  /**
   * The state API (writeSavepoint): key `row.key` buffering the records `row.value.left` and `row.value.right`,
   * each `{ time, value }` as readState gives them, as if they had arrived (pairs among them count as met: they
   * are not emitted again, and a left record with a partner is not padded in a left join). The restored job's
   * records meet them, and its watermark frees them, as any buffered record.
   */
  bootstrapState(row: StateRow): void {
    const step = this.ctx.stepId
    const sides = bootstrapSides(row, step)
    const id = keyId(row.key)
    if (this.keys.get(id) !== undefined) throw userError('SLUICE_STATE_BOOTSTRAP', `step '${step}': two state rows for key ${keyLabel(row.key)}`, { step })
    const timed = (records: unknown[], name: string): { time: number; value: unknown }[] =>
      records.map((r, i) => {
        const x = r as { time?: unknown; value?: unknown } | null
        if (typeof x !== 'object' || x === null || typeof x.time !== 'number' || !Number.isFinite(x.time) || !('value' in x)) {
          throw userError('SLUICE_STATE_BOOTSTRAP', `step '${step}': record ${i} of ${name} in the state row of key ${keyLabel(row.key)} needs { time, value }, time in epoch ms`, { step })
        }
        return { time: x.time, value: x.value }
      })
    const left = timed(sides.left, 'left')
    const right = timed(sides.right, 'right')
    const { lower, upper } = this.spec
    const entry: KeyEntry = { key: row.key, sides: [{ times: [], buckets: new Map() }, { times: [], buckets: new Map() }], mark: -1 }
    this.changes.mark(entry)
    for (const l of left) this.add(entry.sides[0], l.value, l.time, right.some((r) => r.time >= l.time + lower && r.time <= l.time + upper))
    for (const r of right) this.add(entry.sides[1], r.value, r.time, true)
    for (let side = 0; side < 2; side++) for (const t of entry.sides[side].times) this.timers[side].register(Math.floor(this.expiry(side, t)) + 1, id, row.key)
    if (left.length + right.length > 0) this.keys.add(id, entry)
    this.keys.flush()
  }

  restore(state: unknown): void {
    const r = checkRestore(state, this.ctx.state.keyGroups, this.ctx.stepId)
    const side = (snap: SideSnapshot): SideBuffer => {
      const buf: SideBuffer = { times: [], buckets: new Map() }
      for (const [t, values, matched] of snap) {
        buf.times.push(t)
        buf.buckets.set(t, { values, matched })
      }
      return buf
    }
    this.wm = minShared(r, 'wm')
    this.changes.stop()
    this.keys.reset()
    this.ctx.state.restore({ format: 'sluice-keyed-state/1', keyGroups: r.keyGroups, states: {}, groups: {} })
    restoreEntries(
      r,
      {
        buffers: (key, [l, rt]: [SideSnapshot, SideSnapshot]) => this.keys.state.set(keyId(key), { key, sides: [side(l), side(rt)], mark: -1 }),
        left: timersInto(this.timers[0]),
        right: timersInto(this.timers[1]),
      },
      this.ctx.state.insertionOrdered,
    )
  }
}

/** Files a key's buffers of both sides, each as `[time, values, matched]` per bucket in time order. */
function addBuffers(w: KeyedSnapshotWriter, e: KeyEntry): void {
  const side = (buf: SideBuffer): SideSnapshot =>
    buf.times.map((t) => {
      const b = buf.buckets.get(t)!
      return [t, b.values, b.matched]
    })
  w.add('buffers', e.key, [side(e.sides[0]), side(e.sides[1])])
}
