import { SluiceError, userError } from '../../core/errors.ts'
import { badResult } from '../../core/record-errors.ts'
import type { Batch, Position } from '../../core/batch.ts'
import type { EntryColumns, KeyedSnapshot, Operator, OperatorContext, Output, StateRow } from '../../core/operator.ts'
import { keyId } from '../../core/key.ts'
import type { Namespace, SnapshotEntry, StateSnapshot } from '../../core/state-backend.ts'
import { checkRestore, type GroupData, KeyedSnapshotWriter, lazyGroups, minShared, snapshotOf } from '../keyed-snapshot.ts'
import { KeyedContext } from './keyed-context.ts'
import { PausableBatches } from '../pausable.ts'
import type { KeyedProcessFunction, ProcessContext } from './process-function.ts'

type ElementFn<O> = (value: any, ctx: ProcessContext<unknown, O>) => void
type TimerFn<O> = (time: number, ctx: ProcessContext<unknown, O>) => void

/** The list of a base or delta that holds the backend's cells, each as `CellData` under its `cellKey`. */
const CELLS = 'cells'

/** A state cell in a snapshot: its state's id, namespace and key identity, value and expiry. */
type CellData = [state: string, ns: Namespace, id: unknown, value: unknown, expiry: SnapshotEntry[3]]

const cellPart = (x: unknown): string => (typeof x === 'string' ? JSON.stringify(x) : typeof x === 'bigint' ? `${x}n` : String(x))

/**
 * A cell's identity in `CELLS`, by which a delta replaces or removes it alone (a key's other cells stay as they
 * were). Tagged: no key's identity (`keyId`, which a delta's changed timers are listed by) starts with NUL.
 */
function cellKey(state: string, ns: Namespace, id: unknown): string {
  return `\u0000cell ${JSON.stringify(state)} ${cellPart(ns)} ${cellPart(id)}`
}

/** The backend's entries of a restored key group, by state: filed by state (`state`), or as a list of cells. */
function backendEntries(data: GroupData | undefined, kg: string, step: string): StateSnapshot['groups'][number] | undefined {
  if (data === undefined) return undefined
  const byState = data.state as StateSnapshot['groups'][number] | undefined
  const cells = data[CELLS] as EntryColumns | undefined
  if (cells === undefined) return byState
  if (!Array.isArray(cells.d)) throw userError('SLUICE_STATE_SNAPSHOT', `step '${step}': key group ${kg} has a malformed list of state cells`, { step })
  const out: StateSnapshot['groups'][number] = { ...byState }
  for (const d of cells.d as CellData[]) {
    if (!Array.isArray(d) || d.length !== 5 || typeof d[0] !== 'string') throw userError('SLUICE_STATE_SNAPSHOT', `step '${step}': key group ${kg} holds a malformed state cell`, { step })
    ;(out[d[0]] ??= []).push([d[2], d[1], d[3], d[4]])
  }
  return out
}

/** Operator-wide data of a snapshot. */
interface SharedState {
  watermark: number
  format: StateSnapshot['format']
  states: StateSnapshot['states']
}

/**
 * Runs user functions with keyed state and timers over batches: one element function per input (a keyed
 * process function has one, a co-process function two) and an optional timer callback.
 */
export class UserFunctionOperator<O> extends PausableBatches implements Operator {
  private readonly self: object
  private readonly elements: ElementFn<O>[]
  private readonly onTimer: TimerFn<O> | undefined
  private readonly op: OperatorContext
  private readonly ctx: KeyedContext<O>

  constructor(self: object, elements: ElementFn<O>[], onTimer: TimerFn<O> | undefined, op: OperatorContext) {
    super()
    this.self = self
    this.elements = elements
    this.onTimer = onTimer
    this.op = op
    this.ctx = new KeyedContext<O>(op)
    this.snapshotIncremental = op.state.changedCells !== undefined ? (base) => this.incremental(base) : undefined
  }

  protected run(batch: Batch, out: Output, input: number, from: number): void {
    const { values, times, pos } = batch
    const keys = batch.keys!
    const ctx = this.ctx
    const self = this.self
    const element = this.elements[input]
    for (let i = from; i < values.length; i++) {
      if (this.stopAt(i, from, batch, out, input)) return
      ctx.setKey(keys[i])
      ctx.timestamp = times[i]
      try {
        const r: unknown = element.call(self, values[i], ctx)
        // An async function's work would run outside the record (and its rejection go unhandled).
        if (r instanceof Promise) this.op.errors.report(this.op.stepId, badResult(this.op.stepId, 'processElement', r), values[i], times[i], pos?.[i])
      } catch (e) {
        this.failed(e, element, values[i], times[i], pos?.[i])
      }
    }
    ctx.flush(out)
  }

  onWatermark(watermark: number, out: Output): void {
    this.ctx.watermark = watermark
    this.lookSoon()
    this.timers('event', watermark, out)
  }

  onProcessingTime(now: number, out: Output): void {
    this.lookSoon()
    this.timers('processing', now, out)
  }

  /** Fires due timers, then emits; a slow `onTimer` stops part-way and goes on on `resume` (see PausableBatches). */
  private timers(domain: 'event' | 'processing', upTo: number, out: Output): void {
    if (!this.fireTimers(domain, upTo)) return this.stopped(() => this.timers(domain, upTo, out))
    this.ctx.flush(out)
  }

  private readonly looks = (): boolean => this.looked()

  private fireTimers(domain: 'event' | 'processing', upTo: number): boolean {
    const onTimer = this.onTimer
    if (onTimer === undefined) return true
    return this.ctx.fireTimers(domain, upTo, (time) => {
      try {
        const r: unknown = onTimer.call(this.self, time, this.ctx)
        if (r instanceof Promise) this.op.errors.report(this.op.stepId, badResult(this.op.stepId, 'onTimer', r), { timer: time, key: this.ctx.key }, time, undefined)
      } catch (e) {
        try {
          this.op.errors.retry(this.op.stepId, e, onTimer, this.self, time, this.ctx)
        } catch (last) {
          this.op.errors.report(this.op.stepId, last, { timer: time, key: this.ctx.key }, time, undefined)
        }
      }
    }, this.looks)
  }

  /**
   * An element function threw: retry it if the error is transient (it runs again from the start, so what
   * it emitted or changed before throwing stays), then apply the error policy.
   */
  private failed(e: unknown, element: ElementFn<O>, value: unknown, time: number, position: Position | undefined): void {
    const { errors, stepId } = this.op
    try {
      errors.retry(stepId, e, element, this.self, value, this.ctx)
    } catch (last) {
      errors.report(stepId, last, value, time, position)
    }
  }

  /** End of input: processing-time timers still pending fire now, so a bounded run leaves nothing behind. */
  finish(out: Output): void {
    this.lookSoon()
    this.timers('processing', Infinity, out)
  }

  /**
   * Per key group: the keyed state backend's entries of that group, and the timers of its keys. Shared:
   * the watermark and the descriptions of the states. Stops change tracking (see `snapshotIncremental`).
   */
  snapshot(): KeyedSnapshot {
    this.track(false)
    return this.full(false)
  }

  /**
   * Incremental snapshots, on a backend that tracks changed cells (the durable store; the heap's values may be
   * changed in place unseen, so its snapshots stay full): a base is a full snapshot with the backend's entries
   * as a list of cells (`CELLS`), each under an identity of its own, and starts tracking; a delta holds the
   * cells written or removed since (a removed one listed as changed without an entry) and, for each key whose
   * timers changed, its timers. Merged over the base (see `mergeKeyed`), they give what a full snapshot gives.
   */
  readonly snapshotIncremental: ((base: boolean) => KeyedSnapshot) | undefined

  private tracking = false

  private incremental(base: boolean): KeyedSnapshot {
    const state = this.op.state
    if (base) {
      const s = this.full(true)
      this.track(true)
      return s
    }
    if (!this.tracking) throw new SluiceError('SLUICE_INTERNAL', `step '${this.op.stepId}': an incremental snapshot was asked for without a base`, { step: this.op.stepId, domain: 'internal' })
    const w = new KeyedSnapshotWriter(state.keyGroups)
    const changed = state.changedCells!()
    this.ctx.snapshotTimerChanges(w)
    const shared: SharedState = { watermark: this.ctx.watermark, format: 'sluice-keyed-state/1', states: state.describeStates() }
    // The changed cells of a key group are read as the runtime encodes it (one group's values in memory at a time).
    const groups = lazyGroups(w, (kg) =>
      changed(kg, (sid, [id, ns, value, expiry], removed) => {
        const k = cellKey(sid, ns, id)
        w.changedAt(kg, k)
        if (!removed) w.addAt(kg, CELLS, k, [sid, ns, id, value, expiry] satisfies CellData)
      }),
    )
    return { keyGroups: state.keyGroups, groups, shared }
  }

  private track(on: boolean): void {
    if (!on && !this.tracking) return
    this.tracking = on
    this.op.state.trackChanges?.(on)
    this.ctx.trackTimers(on)
  }

  /** A full snapshot, the backend's entries by state (`state`), or as a list of cells (`CELLS`, a base of deltas). */
  private full(cells: boolean): KeyedSnapshot {
    const state = this.op.state
    const st = state.snapshotByGroup()
    const w = new KeyedSnapshotWriter(st.keyGroups)
    this.ctx.snapshotTimers(w)
    const shared: SharedState = { watermark: this.ctx.watermark, format: st.format, states: st.states }
    // The backend's snapshot is already a copy (a store's is read a key group at a time); timers hold only times and keys.
    const file = (kg: number): void => {
      const entries = st.groups[kg]
      if (entries === undefined) return
      if (!cells) {
        w.groupAt(kg).state = entries
        return
      }
      for (const sid in entries) {
        for (const [id, ns, value, expiry] of entries[sid]) w.addAt(kg, CELLS, cellKey(sid, ns, id), [sid, ns, id, value, expiry] satisfies CellData)
      }
    }
    return snapshotOf(
      state,
      w,
      (kg) => {
        if (kg !== undefined) file(kg)
        else for (const g in st.groups) file(Number(g))
      },
      shared,
    )
  }

  /** Every key's states in the default namespace, by name (per-window state is not part of the rows). */
  *stateRows(): Iterable<StateRow> {
    const st = this.op.state.snapshot()
    const byKey = new Map<unknown, Record<string, unknown>>()
    for (const states of Object.values(st.groups)) {
      for (const [sid, entries] of Object.entries(states)) {
        const meta = st.states[sid]
        for (const [id, ns, value] of entries) {
          if (ns !== '') continue
          let row = byKey.get(id)
          if (row === undefined) byKey.set(id, (row = {}))
          row[meta.name] = meta.kind === 'map' ? Object.fromEntries(value as [PropertyKey, unknown][]) : value
        }
      }
    }
    for (const [key, value] of byKey) yield { key, value }
  }

  /** Sets value states of the key: `row.value` holds them by name (each declared without a codec, JSON). */
  bootstrapState(row: StateRow): void {
    if (typeof row.value !== 'object' || row.value === null) {
      throw userError('SLUICE_STATE_BOOTSTRAP', `step '${this.op.stepId}': a process function's state row needs an object of states by name as its value`, { step: this.op.stepId })
    }
    const id = keyId(row.key)
    for (const [name, v] of Object.entries(row.value)) this.op.state.value(name).set(id, v)
  }

  restore(state: unknown): void {
    this.track(false)
    const r = checkRestore(state, this.op.state.keyGroups, this.op.stepId)
    const shared = r.shared as (SharedState | undefined)[]
    const states: StateSnapshot['states'] = {}
    for (const s of shared) if (s !== undefined) Object.assign(states, s.states)
    // Each group's entries as the backend reads it (a restore may decode a group only when it is read).
    const groups: StateSnapshot['groups'] = {}
    for (const kg in r.groups) {
      Object.defineProperty(groups, kg, { enumerable: true, get: () => backendEntries(r.groups[kg as unknown as number] as GroupData | undefined, kg, this.op.stepId) })
    }
    const format = shared.find((s) => s !== undefined)?.format ?? 'sluice-keyed-state/1'
    this.op.state.restore({ format, keyGroups: r.keyGroups, states, groups }, Object.keys(r.groups).map(Number))
    this.ctx.restoreTimers(r)
    this.ctx.watermark = minShared(r, 'watermark')
  }
}

/** Runs a user's keyed process function (Flink's KeyedProcessOperator). */
export class KeyedProcessOperator<T, O> extends UserFunctionOperator<O> {
  constructor(fn: KeyedProcessFunction<unknown, T, O>, op: OperatorContext) {
    super(fn, [fn.processElement], fn.onTimer, op)
  }
}
