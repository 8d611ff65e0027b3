import { systemClock } from '../core/clock.ts'
import { parseDuration } from '../core/duration.ts'
import { userError } from '../core/errors.ts'
import { DEFAULT_KEY_GROUPS, keyGroupOf } from '../core/key.ts'
import type {
  AggregatingState,
  KeyGroupSelection,
  KeyGroupSizes,
  ListState,
  MapState,
  Namespace,
  SnapshotEntry,
  StateAggregate,
  StateBackend,
  StateBackendOptions,
  StateDescriptor,
  StateKind,
  StateMeta,
  StateSnapshot,
  StateStats,
  TimerService,
  ValueState,
} from '../core/state-backend.ts'
import { type Cell, type CellTable, purge, snapshotEntry, type StateSlot, toWire } from './cells.ts'
import { resolveCodec } from '../core/state-codec.ts'
import { aggregatingHandle, type HandleHost, listHandle, mapHandle, valueHandle } from './handles.ts'
import { selectKeyGroups } from './key-groups.ts'

/** Visits cells of one state for cleanup: `fn` returns what purging did; the store drops or rewrites. */
export type SweepVisitor = (ns: Namespace, id: unknown, cell: Cell) => 0 | 1 | 2

/**
 * The semantics every backend shares: state registration, handles, TTL, incremental cleanup, snapshots
 * by key group, restore of a key group subset, stats. A backend supplies the storage of cells.
 */
export abstract class KeyedStateBackend implements StateBackend, HandleHost {
  abstract readonly kind: string
  abstract readonly holdsValues: boolean
  abstract readonly insertionOrdered: boolean
  readonly keyGroups: number
  protected readonly clock: { now(): number }
  private readonly watermark: () => number
  protected readonly slots = new Map<string, StateSlot>()
  protected readonly slotList: StateSlot[] = []
  private readonly cleanupEvery: number
  private readonly cleanupBudget: number
  private writes = 0
  private sweepAt = 0

  constructor(opts: StateBackendOptions = {}) {
    this.keyGroups = opts.keyGroups ?? DEFAULT_KEY_GROUPS
    if (!Number.isInteger(this.keyGroups) || this.keyGroups < 1) {
      throw userError('SLUICE_STATE_KEY_GROUPS', `state: keyGroups must be a positive integer, got ${String(opts.keyGroups)}`)
    }
    this.clock = opts.clock ?? systemClock
    this.watermark = opts.watermark ?? (() => -Infinity)
    const inc = opts.incrementalCleanup ?? { every: 256, budget: 512 }
    this.cleanupEvery = inc === false ? Infinity : Math.max(1, inc.every)
    this.cleanupBudget = inc === false ? 0 : inc.budget
  }

  // ---- storage, supplied by the backend

  abstract table(slot: StateSlot, ns: Namespace): CellTable
  /**
   * Calls `fn` with every cell of a state (the backend may write pending changes first); `fresh` says the
   * cell is a copy nobody else holds (decoded from the store), so a snapshot may take it over.
   */
  protected abstract forEachCell(slot: StateSlot, fn: (ns: Namespace, id: unknown, cell: Cell, fresh: boolean) => void, keyGroup?: number): void
  /** Entries of a state. */
  protected abstract count(slot: StateSlot): number
  /** Visits up to `budget` cells of a state, continuing from the last call; `wrapped` once it passed the end. */
  protected abstract sweep(slot: StateSlot, budget: number, fn: SweepVisitor, fromStart: boolean): { visited: number; removed: number; wrapped: boolean }
  /** Drops every cell of every state. */
  protected abstract clearCells(): void
  abstract approximateBytes(): number
  /** Stores a restored entry (a new key and namespace); `value` and `expiry` belong to the snapshot, so copy them. */
  protected abstract load(slot: StateSlot, ns: Namespace, id: unknown, value: unknown, expiry: SnapshotEntry[3]): void
  protected onSlot(_slot: StateSlot): void {}
  /** A new timer queue of this backend's kind. */
  protected abstract newTimers(): TimerService
  private readonly timerQueues = new Map<string, TimerService>()

  timers(name: string): TimerService {
    let t = this.timerQueues.get(name)
    if (t === undefined) this.timerQueues.set(name, (t = this.newTimers()))
    return t
  }

  close(): void {
    for (const t of this.timerQueues.values()) t.close()
    this.timerQueues.clear()
  }

  // ---- handles

  now(slot?: StateSlot): number {
    return slot?.eventTime === true ? this.watermark() : this.clock.now()
  }

  /** The time of `slot`'s TTL: `now` (processing time) or the watermark. */
  private timeOf(slot: StateSlot, now: number): number {
    return slot.eventTime ? this.watermark() : now
  }

  wrote(): void {
    if (++this.writes >= this.cleanupEvery) {
      this.writes = 0
      this.cleanup(this.clock.now(), this.cleanupBudget)
    }
  }

  value<T>(state: string | StateDescriptor): ValueState<T> {
    const slot = this.register('value', state)
    return (slot.handle ??= valueHandle<T>(this, slot, '')) as ValueState<T>
  }

  map<K, V>(state: string | StateDescriptor): MapState<K, V> {
    const slot = this.register('map', state)
    return (slot.handle ??= mapHandle<K, V>(this, slot, '')) as MapState<K, V>
  }

  list<T>(state: string | StateDescriptor): ListState<T> {
    const slot = this.register('list', state)
    return (slot.handle ??= listHandle<T>(this, slot, '')) as ListState<T>
  }

  /** The aggregate function is not part of the state: each call binds the handle to the one given. */
  aggregating<T, A, R>(state: string | StateDescriptor, fn: StateAggregate<T, A, R>): AggregatingState<T, R> {
    const slot = this.register('aggregating', state)
    return aggregatingHandle(this, slot, '', fn)
  }

  private register(kind: StateKind, state: string | StateDescriptor, meta?: StateMeta): StateSlot {
    const d: StateDescriptor = typeof state === 'string' ? { name: state } : state
    if (typeof d?.name !== 'string' || d.name === '') throw userError('SLUICE_STATE_NAME', 'state: a state needs a non-empty name')
    const id = `${kind}:${d.name}`
    const where = `state '${d.name}'`
    const codec = resolveCodec(d.codec, where)
    let ttl = 0
    let refreshOnRead = false
    let eventTime = false
    if (d.ttl !== undefined) {
      if (d.ttl.time !== undefined && d.ttl.time !== 'processing' && d.ttl.time !== 'event') {
        throw userError('SLUICE_STATE_TTL', `${where}: ttl.time must be 'processing' or 'event'`)
      }
      eventTime = d.ttl.time === 'event'
      ttl = parseDuration(d.ttl.ttl, `${where} ttl`, { allowZero: false })
      const update = d.ttl.update ?? 'on-write'
      if (update !== 'on-write' && update !== 'on-read-and-write') {
        throw userError('SLUICE_STATE_TTL', `${where}: ttl.update must be 'on-write' or 'on-read-and-write'`)
      }
      if (d.ttl.visibility !== undefined && d.ttl.visibility !== 'never-return-expired') {
        throw userError('SLUICE_STATE_TTL', `${where}: ttl.visibility must be 'never-return-expired'`)
      }
      refreshOnRead = update === 'on-read-and-write'
    }
    const existing = this.slots.get(id)
    if (existing !== undefined) {
      // A plain name after a descriptor means "the same state", as handles are looked up by name.
      if (typeof state === 'string' || meta !== undefined) return existing
      // The first declaration after a restore sets the TTL (a job may change it); the codec must stay.
      if (existing.restored === true && existing.handle === undefined && existing.codec.name === codec.name) {
        existing.ttl = ttl
        existing.refreshOnRead = refreshOnRead
        existing.eventTime = eventTime
        existing.restored = false
        return existing
      }
      if (existing.ttl !== ttl || existing.refreshOnRead !== refreshOnRead || existing.eventTime !== eventTime || existing.codec.name !== codec.name) {
        throw userError('SLUICE_STATE_CONFLICT', `${where}: registered twice with different codec or TTL`, {
          hint: 'declare each state once, or give the same descriptor every time',
        })
      }
      return existing
    }
    const slot: StateSlot = { no: this.slotList.length, id, kind, name: d.name, codec, ttl, refreshOnRead, eventTime, ...(meta !== undefined ? { restored: true } : {}) }
    this.slots.set(id, slot)
    this.slotList.push(slot)
    this.onSlot(slot)
    return slot
  }

  // ---- inspection

  keys(name: string, namespace?: Namespace): Iterable<unknown> {
    const out = new Set<unknown>()
    const now = this.clock.now()
    for (const kind of ['value', 'map', 'list', 'aggregating'] as const) {
      const slot = this.slots.get(`${kind}:${name}`)
      if (slot === undefined) continue
      const at = this.timeOf(slot, now)
      this.forEachCell(slot, (ns, id, c) => {
        if (namespace !== undefined && ns !== namespace) return
        if (slot.ttl !== 0 && !visible(slot, c, at)) return
        out.add(id)
      })
    }
    return out
  }

  forEachValue<T>(name: string, fn: (id: unknown, value: T, ns: Namespace) => void, keyGroup?: number): void {
    const slot = this.slots.get(`value:${name}`)
    if (slot === undefined) return
    const now = slot.ttl === 0 ? 0 : this.timeOf(slot, this.clock.now())
    // A backend may visit only the key group's cells, or all of them: the others are skipped here.
    this.forEachCell(
      slot,
      (ns, id, c) => {
        if (keyGroup !== undefined && keyGroupOf(id, this.keyGroups) !== keyGroup) return
        if (slot.ttl === 0 || c.e > now) fn(id, c.v as T, ns)
      },
      keyGroup,
    )
  }

  /**
   * Keys and bytes per key group (index: key group), for metrics: a key counts once in its group whatever
   * states it has, and its bytes are `measure` of each of its values (an estimate). Visits every entry (the
   * durable backend reads them from its store): call it seldom.
   */
  keyGroupSizes(measure: (value: unknown) => number): KeyGroupSizes {
    const keys = new Array<number>(this.keyGroups).fill(0)
    const bytes = new Array<number>(this.keyGroups).fill(0)
    const seen = new Set<unknown>()
    for (const slot of this.slotList) {
      this.forEachCell(slot, (_ns, id, c) => {
        const kg = keyGroupOf(id, this.keyGroups)
        if (!seen.has(id)) {
          seen.add(id)
          keys[kg]++
        }
        bytes[kg] += measure(c.v)
      })
    }
    return { keys, bytes }
  }

  sizes(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const slot of this.slotList) out[slot.id] = this.count(slot)
    return out
  }

  stats(): StateStats {
    const states: StateStats['states'] = {}
    let entries = 0
    let withoutTtl = 0
    for (const slot of this.slotList) {
      const n = this.count(slot)
      states[slot.id] = { kind: slot.kind, entries: n, ttlMs: slot.ttl === 0 ? null : slot.ttl }
      entries += n
      if (slot.ttl === 0) withoutTtl += n
    }
    return { backend: this.kind, states, entries, entriesWithoutTtl: withoutTtl }
  }

  // ---- TTL cleanup

  cleanup(now: number = this.clock.now(), budget: number = Infinity): { visited: number; removed: number } {
    const ttlSlots = this.slotList.filter((s) => s.ttl !== 0)
    let visited = 0
    let removed = 0
    // Round robin over the TTL states, each sweep continuing where the last one stopped; at most one
    // lap over every state per call.
    for (let wraps = 0; visited < budget && wraps < ttlSlots.length; ) {
      const slot = ttlSlots[this.sweepAt % ttlSlots.length]
      const at = this.timeOf(slot, now)
      const r = this.sweep(slot, budget - visited, (_ns, _id, c) => purge(slot, c, at), false)
      visited += r.visited
      removed += r.removed
      if (r.wrapped) {
        this.sweepAt++
        wraps++
      }
    }
    return { visited, removed }
  }

  /** Removes every expired entry. */
  protected fullCleanup(now: number): void {
    for (const slot of this.slotList) {
      if (slot.ttl === 0) continue
      const at = this.timeOf(slot, now)
      this.sweep(slot, Infinity, (_ns, _id, c) => purge(slot, c, at), true)
    }
  }

  // ---- snapshots

  snapshot(): StateSnapshot {
    const now = this.clock.now()
    this.fullCleanup(now)
    const states: Record<string, StateMeta> = {}
    const groups: StateSnapshot['groups'] = {}
    for (const slot of this.slotList) {
      states[slot.id] = this.stateMeta(slot)
      this.forEachCell(slot, (ns, id, c, fresh) => {
        const kg = keyGroupOf(id, this.keyGroups)
        const g = (groups[kg] ??= {})
        ;(g[slot.id] ??= []).push(entryOf(slot, ns, id, c, fresh))
      })
    }
    return { format: 'sluice-keyed-state/1', keyGroups: this.keyGroups, states, groups }
  }

  describeStates(): Record<string, StateMeta> {
    const states: Record<string, StateMeta> = {}
    for (const slot of this.slotList) states[slot.id] = this.stateMeta(slot)
    return states
  }

  snapshotByGroup(): StateSnapshot {
    if (this.holdsValues) return this.snapshot()
    this.fullCleanup(this.clock.now())
    const states = this.describeStates()
    const groups: StateSnapshot['groups'] = {}
    for (const kg of this.keyGroupsHeld()) {
      Object.defineProperty(groups, kg, {
        enumerable: true,
        get: () => {
          const g: Record<string, SnapshotEntry[]> = {}
          for (const slot of this.slotList) {
            this.forEachCell(slot, (ns, id, c, fresh) => (g[slot.id] ??= []).push(entryOf(slot, ns, id, c, fresh)), kg)
          }
          return g
        },
      })
    }
    return { format: 'sluice-keyed-state/1', keyGroups: this.keyGroups, states, groups }
  }

  /** The key groups holding any entry, ascending (a store backend overrides it: each group is a range of its keys). */
  protected keyGroupsHeld(): number[] {
    return Array.from({ length: this.keyGroups }, (_, kg) => kg)
  }

  private stateMeta(slot: StateSlot): StateMeta {
    return { kind: slot.kind, name: slot.name, codec: slot.codec.name, ttl: slot.ttl === 0 ? null : slot.ttl }
  }

  /** Runs `fn`, a step's restore; a backend that can take its writes in bulk does (see StateBackend.bulkLoad). */
  bulkLoad(fn: () => void): void {
    fn()
  }

  /** Runs `fn`, a step's snapshot; a backend that caches what it reads need not (see StateBackend.snapshotReads). */
  snapshotReads<T>(fn: () => T): T {
    return fn()
  }

  restore(snapshot: StateSnapshot, ownedKeyGroups?: KeyGroupSelection): void {
    if (snapshot?.format !== 'sluice-keyed-state/1') {
      throw userError('SLUICE_STATE_SNAPSHOT', 'state: not a keyed state snapshot (unknown format)')
    }
    if (snapshot.keyGroups !== this.keyGroups) {
      throw userError('SLUICE_STATE_KEY_GROUPS', `state: the snapshot has ${snapshot.keyGroups} key groups, this backend ${this.keyGroups}`, {
        hint: 'the number of key groups is fixed for the life of a job; restore with the same keyGroups',
      })
    }
    this.clearCells()
    const owned = ownedKeyGroups === undefined ? undefined : selectKeyGroups(ownedKeyGroups, this.keyGroups)
    const bySlot = new Map<string, StateSlot>()
    for (const [sid, meta] of Object.entries(snapshot.states)) {
      const slot = this.slots.get(sid) ?? this.register(meta.kind, { name: meta.name, codec: builtinCodec(meta.codec), ttl: meta.ttl === null ? undefined : { ttl: meta.ttl } }, meta)
      bySlot.set(sid, slot)
    }
    // One group read at a time: a restore may decode each group as it is read (see `openKeyedRestore`).
    for (const kgText in snapshot.groups) {
      const kg = Number(kgText)
      if (owned !== undefined && !owned.has(kg)) continue
      const states = snapshot.groups[kg]
      if (states === undefined) continue
      for (const [sid, entries] of Object.entries(states)) {
        const slot = bySlot.get(sid)
        if (slot === undefined) throw userError('SLUICE_STATE_SNAPSHOT', `state: snapshot entries for '${sid}' without its description`)
        for (const [id, ns, v, e] of entries as SnapshotEntry[]) this.load(slot, ns, id, v, e)
      }
    }
  }
}

function visible(slot: StateSlot, c: Cell, now: number): boolean {
  if (slot.kind === 'value' || slot.kind === 'aggregating') return c.e > now
  if (c.e === null) return true
  if (slot.kind === 'list') return (c.e as number[]).some((t) => t > now)
  for (const t of (c.e as Map<unknown, number>).values()) if (t > now) return true
  return false
}

function builtinCodec(name: string): 'json' | 'v8' {
  if (name === 'json' || name === 'v8') return name
  throw userError('SLUICE_STATE_CODEC', `state: the snapshot uses codec '${name}', which is not registered`, {
    hint: 'create the state handles with their descriptors before restoring',
  })
}

/** A cell's snapshot entry: a cell decoded just now (`fresh`) is the snapshot's own; one the backend keeps is copied. */
function entryOf(slot: StateSlot, ns: Namespace, id: unknown, c: Cell, fresh: boolean): SnapshotEntry {
  return fresh ? [id, ns, ...toWire(slot, c)] : snapshotEntry(slot, ns, id, c)
}
