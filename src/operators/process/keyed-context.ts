import { BatchBuilder } from '../../core/batch.ts'
import { SluiceError } from '../../core/errors.ts'
import type { StateDescriptor, TimerService } from '../../core/state-backend.ts'
import { keyId } from '../../core/key.ts'
import type { KeyedRestore, OperatorContext, Output } from '../../core/operator.ts'
import { TimerFiring } from '../timer-firing.ts'
import { type KeyedSnapshotWriter, restoreEntries, timersInto } from '../keyed-snapshot.ts'
import type { KeyedStateAccess, ProcessContext, TimerAccess } from './process-function.ts'

/**
 * The machinery shared by keyed operators that run user functions: the current key, state handles bound
 * to it, event- and processing-time timers, and output buffers. One instance per operator, reused for
 * every record, so nothing is allocated per record.
 */
export class KeyedContext<O> implements ProcessContext<unknown, O> {
  key: unknown = undefined
  id: unknown = undefined
  timestamp = 0
  watermark = -Infinity
  timeDomain: 'event' | 'processing' = 'event'
  readonly state: KeyedStateAccess
  readonly timers: TimerAccess
  /** The step's timers, kept by its state backend (on the durable one, in its store). */
  readonly eventTimers: TimerService
  readonly procTimers: TimerService
  readonly out = new BatchBuilder<O>()
  private readonly sides = new Map<string, BatchBuilder>()
  private readonly op: OperatorContext

  constructor(op: OperatorContext) {
    this.op = op
    const backend = op.state
    this.eventTimers = backend.timers('event')
    this.procTimers = backend.timers('processing')
    const values = new Map<string, ReturnType<KeyedStateAccess['value']>>()
    const maps = new Map<string, ReturnType<KeyedStateAccess['map']>>()
    const lists = new Map<string, ReturnType<KeyedStateAccess['list']>>()
    this.state = {
      value: <T>(state: string | StateDescriptor) => {
        const name = typeof state === 'string' ? state : state.name
        let h = values.get(name)
        if (h === undefined) {
          const s = backend.value<T>(state)
          h = { get: () => s.get(this.id), set: (v) => s.set(this.id, v as T), clear: () => s.delete(this.id) }
          values.set(name, h)
        }
        return h as ReturnType<KeyedStateAccess['value']> & { get(): T | undefined; set(v: T): void }
      },
      map: <K, V>(state: string | StateDescriptor) => {
        const name = typeof state === 'string' ? state : state.name
        let h = maps.get(name)
        if (h === undefined) {
          const s = backend.map<K, V>(state)
          h = {
            get: (f) => s.get(this.id, f as K),
            set: (f, v) => s.set(this.id, f as K, v as V),
            delete: (f) => s.delete(this.id, f as K),
            entries: () => s.entries(this.id),
            clear: () => s.clear(this.id),
          }
          maps.set(name, h)
        }
        return h as never
      },
      list: <T>(state: string | StateDescriptor) => {
        const name = typeof state === 'string' ? state : state.name
        let h = lists.get(name)
        if (h === undefined) {
          const s = backend.list<T>(state)
          h = { get: () => s.get(this.id), add: (v) => s.add(this.id, v as T), set: (vs) => s.set(this.id, vs as T[]), clear: () => s.clear(this.id) }
          lists.set(name, h)
        }
        return h as never
      },
    }
    this.timers = {
      eventTime: (t) => {
        this.eventTimers.register(t, this.id, this.key)
        this.timerKeys?.set(this.id, this.key)
      },
      processingTime: (t) => {
        this.procTimers.register(t, this.id, this.key)
        this.timerKeys?.set(this.id, this.key)
        op.scheduleProcessingTime(t)
      },
      deleteEventTime: (t) => {
        this.eventTimers.delete(t, this.id)
        this.timerKeys?.set(this.id, this.key)
      },
      deleteProcessingTime: (t) => {
        this.procTimers.delete(t, this.id)
        this.timerKeys?.set(this.id, this.key)
      },
    }
  }

  get now(): number {
    return this.op.clock.now()
  }

  setKey(key: unknown): void {
    this.key = key
    this.id = keyId(key)
  }

  emit(value: O, time?: number): void {
    this.out.push(value, time ?? this.timestamp)
  }

  side(tag: string, value: unknown, time?: number): void {
    let b = this.sides.get(tag)
    if (b === undefined) this.sides.set(tag, (b = new BatchBuilder()))
    b.push(value, time ?? this.timestamp)
  }

  /**
   * Fires the timers of `domain` due up to `upTo`, calling `fn` with the key set. With `stop` (asked before every
   * timer but the first): false when it said to stop; the timers not fired yet fire on the next call (with the
   * same domain and `upTo`).
   */
  fireTimers(domain: 'event' | 'processing', upTo: number, fn: (time: number) => void, stop?: () => boolean): boolean {
    const q = domain === 'event' ? this.eventTimers : this.procTimers
    this.timeDomain = domain
    try {
      return this.firing.fire(
        q,
        upTo,
        (time, id, key) => {
          this.timerKeys?.set(id, key)
          this.key = key
          this.id = id
          this.timestamp = time
          fn(time)
        },
        stop,
      )
    } finally {
      this.timeDomain = 'event'
    }
  }

  /** Timers taken from their queue but not fired yet (`fireTimers` stopped part-way). */
  private readonly firing = new TimerFiring()

  flush(out: Output): void {
    if (this.out.length > 0) {
      const b = this.out.take()
      this.op.metrics.recordsOut += b.values.length
      out.emit(b)
    }
    for (const [tag, b] of this.sides) if (b.length > 0) out.side(tag, b.take())
  }

  /** Files the timers of both clocks under their keys' groups. */
  snapshotTimers(w: KeyedSnapshotWriter): void {
    w.timers('event', this.eventTimers)
    w.timers('processing', this.procTimers)
  }

  /** While incremental snapshots are taken: the keys whose timers changed since the last one (by identity). */
  private timerKeys: Map<unknown, unknown> | undefined

  /** Starts noting the keys whose timers change (forgetting those noted), or stops. */
  trackTimers(on: boolean): void {
    this.timerKeys = on ? new Map() : undefined
  }

  /**
   * In a delta: marks each key whose timers changed since the last snapshot as changed, and files its timers now.
   * Starts the next interval.
   */
  snapshotTimerChanges(w: KeyedSnapshotWriter): void {
    const changed = this.timerKeys
    if (changed === undefined) throw new SluiceError('SLUICE_INTERNAL', `step '${this.op.stepId}': timer changes were asked for while they were not tracked`, { step: this.op.stepId, domain: 'internal' })
    this.timerKeys = new Map()
    if (changed.size === 0) return
    for (const key of changed.values()) w.changed(key)
    w.timersOf('event', this.eventTimers, changed)
    w.timersOf('processing', this.procTimers, changed)
  }

  /** Takes the restored timers of both clocks, and asks again for the processing-time ones. */
  restoreTimers(r: KeyedRestore): void {
    this.timerKeys = undefined
    const times = new Set<number>()
    // Heap queues fire the keys of one time in the order they were registered: restored in their old order.
    restoreEntries(r, { event: timersInto(this.eventTimers), processing: timersInto(this.procTimers, times) }, this.op.state.insertionOrdered)
    for (const t of times) this.op.scheduleProcessingTime(t)
  }
}
