import { mkdirSync, rmSync } from 'node:fs'
import { getHeapStatistics } from 'node:v8'
import { join } from 'node:path'
import type { Key, RootDatabase } from 'lmdb'
import { SluiceError, userError } from '../../core/errors.ts'
import { keyGroupOf } from '../../core/key.ts'
import { v8Codec } from '../../core/state-codec.ts'
import type { KeyGroupSizes, Namespace, SnapshotEntry, StateBackendOptions, StateSnapshot, StateStats, KeyGroupSelection, TimerService } from '../../core/state-backend.ts'
import { type Cell, type CellTable, CHANGED, EMPTY, snapshotEntry, type StateSlot, toWire } from '../cells.ts'
import { decodeCell, encodeCell, encodedLength, encodeWire } from './cell-bytes.ts'
import { KeyedStateBackend, type SweepVisitor } from '../keyed-state-backend.ts'
import { DurableTimerQueue } from './durable-timers.ts'
import { CellIndex } from './cell-index.ts'
import { KeyFilter } from './key-filter.ts'
import { decodeId, encodeId, type StoreKey } from './store-keys.ts'
import { clearStore, openStore } from './lmdb-store.ts'
import { stateFolder } from './state-folders.ts'

export interface DurableStateBackendOptions extends StateBackendOptions {
  /** Folder of the store (default: a new folder in the system's temporary folder, removed on close). */
  path?: string
  /** Cells held decoded in the write-back cache at most (default 100,000). */
  cacheEntries?: number
  /**
   * Bytes of cells, as the store holds them (encoded), that the write-back cache holds decoded at most
   * (default 1/64 of the V8 heap limit: 16 MB under a 1 GB heap). Decoded values take several times their
   * stored size: the cache gives up cells by this or by `cacheEntries`, whichever it reaches first.
   */
  cacheBytes?: number
}

/** A cell in the write-back cache; `cell` undefined means the key has no state (a tombstone when `stored`). */
interface Entry {
  readonly slot: StateSlot
  readonly ns: Namespace
  readonly id: unknown
  readonly key: StoreKey
  cell: Cell | undefined
  /** Its stored size in bytes when last read or written; a new cell's is its state's recent mean until it is written. */
  size: number
  /** Whether the cache holds it (its size counts in the cache's bytes). */
  held: boolean
  /** Whether the store holds a version of this cell. */
  stored: boolean
  dirty: boolean
  hot: boolean
  at: number
  /** The tracking interval in which it last changed (see `trackChanges`; -1: never). */
  changedIn: number
}

const LOAD_BATCH = 10_000
/** The value of a changed cell's key in the log of changes (its key is what counts). */
const LOGGED = Buffer.from([1])

/**
 * Keyed state in an embedded LMDB store, for state larger than memory. Hot cells stay decoded in a
 * write-back cache (evicted second-chance, written in one transaction per eviction batch), so a hot key
 * costs no store access per record. The store is a working copy: it starts empty, and checkpoints take
 * `snapshot()`, which writes the same logical format as the heap backend.
 */
export class DurableStateBackend extends KeyedStateBackend {
  readonly kind = 'durable'
  readonly holdsValues = false
  readonly insertionOrdered = false
  readonly path: string
  private readonly db: RootDatabase<Buffer, Key>
  private readonly owned: boolean
  private readonly capacity: number
  private readonly budget: number
  /** Bytes of the cells the cache holds (their sizes). */
  private bytes = 0
  /** Per state, a running mean of its cells' stored sizes: the size a new cell counts until it is written. */
  private meanSize: number[] = []
  /** The stored size of the value the last `read` found. */
  private readSize = 0
  private readonly cache = new CellIndex<Entry>()
  /**
   * Entries whose cell the store does not have yet (what a flush writes), and some that were written since
   * (their `dirty` flag is off): an entry is listed when it turns dirty and left in the list when written,
   * which costs a flag where a set's add and delete cost hashing; the list is cut back to the dirty ones when
   * it outgrows twice the cache.
   */
  private dirty: Entry[] = []
  /** The keys the store may hold: a key it has never seen is not read. */
  private readonly filter = new KeyFilter()
  private counts: number[] = []
  private cursors: (StoreKey | undefined)[] = []
  private loads: [StoreKey, Uint8Array][] = []
  /** Inside `bulkLoad`: new entries go to `loads`. */
  private loading = false
  /** Inside `snapshotReads`: a read the cache misses is not cached. */
  private peeking = false
  private closed = false
  private timerFiles = 0
  /** Whether changed cells are tracked (see `trackChanges`), and the current interval. */
  private tracking = false
  private epoch = 0
  /**
   * The store keys of cells changed in this interval that the cache gave up (a store of their own, so that
   * tracking holds no memory per changed cell); the cache's own changed cells carry the interval's mark.
   */
  private changedLog: RootDatabase<Buffer, Key>
  /** The log of the interval before, which `changedCells`' reader reads while the next interval logs into the other. */
  private lastLog: RootDatabase<Buffer, Key>

  constructor(opts: DurableStateBackendOptions = {}) {
    super(opts)
    this.capacity = Math.max(1, opts.cacheEntries ?? 100_000)
    this.budget = Math.max(1, opts.cacheBytes ?? Math.floor(getHeapStatistics().heap_size_limit / 64))
    this.owned = opts.path === undefined
    this.path = opts.path ?? stateFolder()
    mkdirSync(this.path, { recursive: true })
    try {
      // A file name with an extension: the store never mistakes the folder for its file (a folder named 'join.0' would be).
      this.db = openStore(join(this.path, 'state.mdb'))
      clearStore(this.db)
      this.changedLog = openStore(join(this.path, 'changed.mdb'))
      clearStore(this.changedLog)
      this.lastLog = openStore(join(this.path, 'changed-last.mdb'))
      clearStore(this.lastLog)
    } catch (e) {
      throw new SluiceError('SLUICE_STATE_STORE', 'state: cannot open the durable state store', { domain: 'external', cause: e, hint: 'check that the state folder is writable' })
    }
  }

  protected newTimers(): TimerService {
    return new DurableTimerQueue(join(this.path, `timers-${this.timerFiles++}.mdb`))
  }

  protected override onSlot(slot: StateSlot): void {
    this.counts[slot.no] = 0
    this.meanSize[slot.no] = 64
  }

  /**
   * Runs `fn`, a step's restore, with the new entries it writes going straight to the store in batches
   * (`load`), not through the write-back cache: a restore writes each entry once and reads almost nothing
   * back. An entry it reads, changes or deletes takes the cache's path as at any other time.
   */
  override bulkLoad(fn: () => void): void {
    this.loading = true
    try {
      fn()
    } finally {
      this.loading = false
      this.writeLoads()
    }
  }

  /**
   * Runs `fn`, a snapshot's reads: a cell the cache does not hold is read from the store and not cached (it
   * would evict a cell the job works on, for a key the snapshot reads once). Writes take the cache's path.
   */
  override snapshotReads<T>(fn: () => T): T {
    const was = this.peeking
    this.peeking = true
    try {
      return fn()
    } finally {
      this.peeking = was
    }
  }

  table(slot: StateSlot, ns: Namespace): CellTable {
    // An object with methods on its prototype: a handle per namespace (a join page's) costs one allocation.
    return new DurableTable(this, slot, ns)
  }

  /** `CellTable.get` of a table of this store. */
  cellGet(slot: StateSlot, ns: Namespace, id: unknown): Cell | undefined {
    if (this.loading) return this.loadingGet(slot, ns, id)
    if (this.peeking) {
      // A cached entry without a cell is a key removed since it was written: the store's version is stale.
      const e = this.cache.get(slot.no, ns, id)
      return e !== undefined ? e.cell : this.read(slot, this.storeKey(slot, ns, id))
    }
    return this.entry(slot, ns, id).cell
  }

  /** `CellTable.put`: while loading, a cell the cache does not hold goes to the load batch. */
  cellPut(slot: StateSlot, ns: Namespace, id: unknown, c: Cell): void {
    if (this.loading && this.cache.get(slot.no, ns, id) === undefined) {
      this.enqueueLoad(slot, this.storeKey(slot, ns, id), encodeWire(slot, toWire(slot, c)))
      return
    }
    const e = this.entry(slot, ns, id)
    if (e.cell === undefined) {
      this.counts[slot.no]++
      if (!e.stored) this.resize(e, this.meanSize[slot.no])
    }
    e.cell = c
    this.mark(e)
  }

  /** `CellTable.touch`: a cell changed in place is written back (cached again if it was evicted meanwhile). */
  cellTouch(slot: StateSlot, ns: Namespace, id: unknown, c: Cell): void {
    let e = this.cache.get(slot.no, ns, id)
    if (e === undefined) {
      e = { slot, ns, id, key: this.storeKey(slot, ns, id), cell: c, size: this.meanSize[slot.no], held: false, stored: true, dirty: false, hot: true, at: -1, changedIn: -1 }
      this.insert(e)
    }
    this.mark(e)
  }

  /** `CellTable.delete`. */
  cellDelete(slot: StateSlot, ns: Namespace, id: unknown): void {
    if (this.loading) this.writeLoads()
    const e = this.entry(slot, ns, id)
    if (e.cell === undefined) return
    this.counts[slot.no]--
    e.cell = undefined
    if (e.stored) this.mark(e)
    else {
      // Not in the store, but perhaps in the last delta (which does not flush): its removal is a change.
      this.unmark(e)
      if (this.tracking) e.changedIn = this.epoch
    }
  }

  /**
   * A read while loading: from the cache, else from the store (written up to date first) when it may hold the
   * key; a miss is not cached, so the put that usually follows goes to the load batch.
   */
  private loadingGet(slot: StateSlot, ns: Namespace, id: unknown): Cell | undefined {
    const e = this.cache.get(slot.no, ns, id)
    if (e !== undefined) return e.cell
    const key = this.storeKey(slot, ns, id)
    if (!this.filter.mayHold(key)) return undefined
    this.writeLoads()
    const cell = this.read(slot, key)
    if (cell === undefined) return undefined
    // Cached as read, so that changing it in place and touching it writes it back.
    this.insert({ slot, ns, id, key, cell, size: this.readSize, held: false, stored: true, dirty: false, hot: false, at: -1, changedIn: -1 })
    return cell
  }

  /** `e` changed: it is dirty, and (while tracking) changed in this interval. */
  private mark(e: Entry): void {
    if (this.tracking) e.changedIn = this.epoch
    if (e.dirty) return
    e.dirty = true
    if (this.dirty.length >= 2 * this.capacity + 1024) this.dirty = this.dirty.filter((d) => d.dirty)
    this.dirty.push(e)
  }

  private unmark(e: Entry): void {
    e.dirty = false
  }

  private storeKey(slot: StateSlot, ns: Namespace, id: unknown): StoreKey {
    return [keyGroupOf(id, this.keyGroups), slot.no, ns, encodeId(id)]
  }

  /** The cache entry of a cell, read from the store on a miss (absent cells are cached too). */
  private entry(slot: StateSlot, ns: Namespace, id: unknown): Entry {
    let e = this.cache.get(slot.no, ns, id)
    if (e !== undefined) {
      e.hot = true
      return e
    }
    const key = this.storeKey(slot, ns, id)
    const cell = this.read(slot, key)
    e = { slot, ns, id, key, cell, size: cell === undefined ? 0 : this.readSize, held: false, stored: cell !== undefined, dirty: false, hot: false, at: -1, changedIn: -1 }
    this.insert(e)
    return e
  }

  /** The stored cell of `key`, decoded from the store's own buffer (reused by its next read). */
  private read(slot: StateSlot, key: StoreKey): Cell | undefined {
    if (!this.filter.mayHold(key)) return undefined
    let bytes: Buffer | undefined
    try {
      bytes = this.db.getBinaryFast(key)
    } catch (e) {
      throw storeError(e)
    }
    if (bytes === undefined) return undefined
    // The store's buffer is larger than the value: its `length` is set, its bytes are not cut.
    this.readSize = (this.db as unknown as { lastSize: number }).lastSize
    const value = bytes.subarray(0, this.readSize)
    return decodeCell(slot, slot.codec === v8Codec ? value : Buffer.from(value))
  }

  private insert(e: Entry): void {
    if (this.cache.size >= this.capacity || this.bytes >= this.budget) this.evict()
    this.cache.add(e)
    e.held = true
    this.bytes += e.size
  }

  /** A held cell's size changed: the cache's bytes follow. */
  private resize(e: Entry, size: number): void {
    if (e.held) this.bytes += size - e.size
    e.size = size
  }

  /**
   * Evicts a tenth of the cache (by cells or by bytes, whichever is over), giving recently used cells a second
   * chance; writes the dirty ones in one transaction. An evicted entry lets go of its value once written: the
   * list of dirty entries may still hold it (it is cut back only when long), and its value would stay alive with
   * it, long enough to be promoted.
   */
  private evict(): void {
    const out: Entry[] = []
    const cells = Math.floor(this.capacity * 0.9)
    const bytes = this.budget * 0.9
    this.cache.evict(
      () => this.cache.size > cells || this.bytes > bytes,
      (e) => {
        e.held = false
        this.bytes -= e.size
        if (e.dirty || (this.tracking && e.changedIn === this.epoch)) out.push(e)
        else e.cell = undefined
      },
    )
    this.write(out, true)
    for (const e of out) e.cell = undefined
  }

  /**
   * Writes the dirty ones of `entries` to the store; while tracking, and when they leave the cache (`leaving`:
   * given up, or never in it), logs those changed in this interval.
   */
  private write(entries: Entry[], leaving = false): void {
    if (entries.length === 0) return
    try {
      const logged = leaving && this.tracking ? entries.filter((e) => e.changedIn === this.epoch) : []
      if (logged.length > 0) {
        this.changedLog.transactionSync(() => {
          for (const e of logged) void this.changedLog.put(e.key, LOGGED)
        })
      }
      this.db.transactionSync(() => {
        for (const e of entries) {
          // An entry listed twice (dirty again after it was written) is written once.
          if (!e.dirty) continue
          if (e.cell === undefined) {
            void this.db.remove(e.key)
            this.resize(e, 0)
          } else {
            const bytes = encodeCell(e.slot, e.cell) as Buffer
            void this.db.put(e.key, bytes)
            if (!e.stored) this.filter.add(e.key)
            const size = encodedLength(bytes)
            this.resize(e, size)
            const no = e.slot.no
            this.meanSize[no] += (size - this.meanSize[no]) / 16
          }
          e.stored = e.cell !== undefined
          this.unmark(e)
        }
      })
    } catch (err) {
      throw storeError(err)
    }
    if (this.filter.full) this.refilter()
  }

  /** Sizes the key filter anew for the keys the store holds, with room to grow. */
  private refilter(): void {
    // The filter is built from the store: entries still in the load batch go there first.
    if (this.loads.length > 0) this.writeLoads()
    const keys = this.db.getKeysCount()
    this.filter.rebuild(Math.max(4 * keys, 1 << 20), this.db.getKeys() as Iterable<StoreKey>)
  }

  /** Writes every dirty cell to the store. */
  flush(): void {
    this.writeLoads()
    const out = this.dirty.filter((e) => e.dirty)
    this.dirty = []
    this.write(out)
  }

  protected forEachCell(slot: StateSlot, fn: (ns: Namespace, id: unknown, cell: Cell, fresh: boolean) => void, keyGroup?: number): void {
    this.flush()
    const cached = this.cache.size > 0
    const last = keyGroup ?? this.keyGroups - 1
    for (let kg = keyGroup ?? 0; kg <= last; kg++) {
      for (const { key, value } of this.db.getRange({ start: [kg, slot.no], end: [kg, slot.no + 1] })) {
        const [, , ns, sid] = key as StoreKey
        const id = decodeId(sid)
        const hit = cached ? this.cache.get(slot.no, ns, id)?.cell : undefined
        if (hit !== undefined) fn(ns, id, hit, false)
        else fn(ns, id, decodeCell(slot, value), true)
      }
    }
  }

  protected override keyGroupsHeld(): number[] {
    this.flush()
    const held: number[] = []
    for (let kg = 0; kg < this.keyGroups; kg++) {
      if (this.db.getKeysCount({ start: [kg], end: [kg + 1], limit: 1 }) > 0) held.push(kg)
    }
    return held
  }

  /**
   * Keys and bytes per key group from the store's own entries, without decoding them: bytes are what the
   * store holds (encoded), not an estimate of decoded values, so `measure` is not used.
   */
  override keyGroupSizes(_measure?: (value: unknown) => number): KeyGroupSizes {
    this.flush()
    const keys = new Array<number>(this.keyGroups).fill(0)
    const bytes = new Array<number>(this.keyGroups).fill(0)
    for (let kg = 0; kg < this.keyGroups; kg++) {
      const seen = new Set<unknown>()
      for (const { key, value } of this.db.getRange({ start: [kg], end: [kg + 1] })) {
        bytes[kg] += value.length
        const id = (key as StoreKey)[3]
        if (!seen.has(id)) {
          seen.add(id)
          keys[kg]++
        }
      }
    }
    return { keys, bytes }
  }

  protected count(slot: StateSlot): number {
    return this.counts[slot.no]
  }

  protected sweep(slot: StateSlot, budget: number, fn: SweepVisitor, fromStart: boolean): { visited: number; removed: number; wrapped: boolean } {
    this.flush()
    let from = fromStart ? undefined : this.cursors[slot.no]
    let visited = 0
    let removed = 0
    const writes: Entry[] = []
    let wrapped = true
    scan: for (let kg = from === undefined ? 0 : from[0]; kg < this.keyGroups; kg++) {
      const resume = from !== undefined && from[0] === kg
      const start = resume ? from! : [kg, slot.no]
      for (const { key, value } of this.db.getRange({ start, end: [kg, slot.no + 1], exclusiveStart: resume, snapshot: true })) {
        if (visited >= budget) {
          wrapped = false
          break scan
        }
        visited++
        this.cursors[slot.no] = key as StoreKey
        const [, , ns, sid] = key as StoreKey
        const id = decodeId(sid)
        const cached = this.cache.get(slot.no, ns, id)
        const cell = cached?.cell ?? decodeCell(slot, value)
        const r = fn(ns, id, cell)
        if (r === EMPTY) {
          removed++
          this.counts[slot.no]--
          if (cached !== undefined) {
            cached.cell = undefined
            this.mark(cached)
          } else writes.push({ slot, ns, id, key: key as StoreKey, cell: undefined, size: 0, held: false, stored: true, dirty: true, hot: false, at: -1, changedIn: this.epoch })
        } else if (r === CHANGED) {
          if (cached !== undefined) this.mark(cached)
          else writes.push({ slot, ns, id, key: key as StoreKey, cell, size: value.length, held: false, stored: true, dirty: true, hot: false, at: -1, changedIn: this.epoch })
        }
      }
      from = undefined
    }
    if (wrapped) this.cursors[slot.no] = undefined
    this.write(writes, true)
    return { visited, removed, wrapped }
  }

  /**
   * Starts tracking changed cells (`on`): what `changedCells` lists next is what changes from now on; or stops.
   * Costs a mark per change, and a logged key per changed cell that the cache gives up.
   */
  trackChanges(on: boolean): void {
    this.stopTracking()
    this.tracking = on
  }

  private stopTracking(): void {
    this.tracking = false
    this.epoch++
    try {
      clearStore(this.changedLog)
      clearStore(this.lastLog)
    } catch (e) {
      throw storeError(e)
    }
  }

  /**
   * Takes the cells written or removed since tracking started or since the last call, and starts the next
   * interval. The reader it returns calls `fn` with those of key group `kg`, in no particular order: its state's
   * id and its entry now (a copy; without a value when `removed`). The cells are read when a group is asked for,
   * so that a delta holds one key group's changed values at a time: read each group at most once, before the
   * state changes again.
   */
  changedCells(): (kg: number, fn: (state: string, entry: SnapshotEntry, removed: boolean) => void) => void {
    if (!this.tracking) throw new SluiceError('SLUICE_INTERNAL', 'state: changed cells were asked for while changes were not tracked', { domain: 'internal' })
    const epoch = this.epoch
    const cached: (Entry[] | undefined)[] = []
    this.cache.forEach((e) => {
      if (e.changedIn === epoch) (cached[e.key[0]] ??= []).push(e)
    })
    // The next interval logs into the other store (emptied by the interval before), while this one's is read.
    const log = this.changedLog
    this.changedLog = this.lastLog
    this.lastLog = log
    try {
      clearStore(this.changedLog)
    } catch (e) {
      throw storeError(e)
    }
    this.epoch++
    return (kg, fn) => {
      const give = (e: { slot: StateSlot; ns: Namespace; id: unknown }, cell: Cell | undefined, fresh: boolean): void => {
        if (cell === undefined) fn(e.slot.id, [e.id, e.ns, undefined, null], true)
        else fn(e.slot.id, fresh ? [e.id, e.ns, ...toWire(e.slot, cell)] : snapshotEntry(e.slot, e.ns, e.id, cell), false)
      }
      for (const e of cached[kg] ?? []) give(e, e.cell, false)
      cached[kg] = undefined
      try {
        for (const logged of log.getKeys({ start: [kg], end: [kg + 1], snapshot: true }) as Iterable<StoreKey>) {
          const slot = this.slotList[logged[1]]
          const id = decodeId(logged[3])
          const hit = this.cache.get(slot.no, logged[2], id)
          if (hit?.changedIn === epoch) continue
          const at = { slot, ns: logged[2], id }
          if (hit !== undefined) give(at, hit.cell, false)
          else give(at, this.read(slot, logged), true)
        }
      } catch (e) {
        throw e instanceof SluiceError ? e : storeError(e)
      }
    }
  }

  protected clearCells(): void {
    this.stopTracking()
    this.loads = []
    this.cache.clear()
    this.bytes = 0
    this.dirty = []
    this.counts = this.counts.map(() => 0)
    this.cursors = []
    this.filter.clear()
    try {
      clearStore(this.db)
    } catch (e) {
      throw storeError(e)
    }
  }

  protected load(slot: StateSlot, ns: Namespace, id: unknown, value: unknown, expiry: SnapshotEntry[3]): void {
    this.enqueueLoad(slot, this.storeKey(slot, ns, id), encodeWire(slot, [value, expiry]))
  }

  /** A new entry for the load batch (the key filter knows it at once: a read of it writes the batch first). */
  private enqueueLoad(slot: StateSlot, key: StoreKey, bytes: Uint8Array): void {
    this.loads.push([key, bytes])
    this.filter.add(key)
    this.counts[slot.no]++
    if (this.loads.length >= LOAD_BATCH) this.writeLoads()
  }

  private writeLoads(): void {
    if (this.loads.length === 0) return
    const loads = this.loads
    this.loads = []
    try {
      this.db.transactionSync(() => {
        for (const [k, v] of loads) void this.db.put(k, v as Buffer)
      })
    } catch (e) {
      throw storeError(e)
    }
    if (this.filter.full) this.refilter()
  }

  override restore(snapshot: StateSnapshot, ownedKeyGroups?: KeyGroupSelection): void {
    try {
      super.restore(snapshot, ownedKeyGroups)
    } finally {
      this.writeLoads()
    }
  }

  override stats(): StateStats {
    const s = super.stats()
    s.bytes = this.storedBytes()
    s.cached = this.cache.size
    return s
  }

  /**
   * The store's pages in use and the bytes of the cells the cache holds (some of which the store holds too: over
   * by at most the cache's budget). It writes nothing: every checkpoint asks for it, and a flush would write
   * every dirty cell each time, those about to change again too (a delta reads its changed cells through the cache).
   */
  approximateBytes(): number {
    return this.storedBytes() + this.bytes
  }

  /** The bytes of the pages the store's tree uses (not its free pages). */
  private storedBytes(): number {
    const st = this.db.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number }
    return st.pageSize * (st.treeBranchPageCount + st.treeLeafPageCount + st.overflowPages)
  }

  override close(): void {
    if (this.closed) return
    this.closed = true
    super.close()
    this.cache.clear()
    void this.db.close()
    void this.changedLog.close()
    void this.lastLog.close()
    if (this.owned) rmSync(this.path, { recursive: true, force: true })
  }
}

/** A state's namespace in the durable store, as the state handles use it. */
class DurableTable implements CellTable {
  private readonly store: DurableStateBackend
  private readonly slot: StateSlot
  private readonly ns: Namespace

  constructor(store: DurableStateBackend, slot: StateSlot, ns: Namespace) {
    this.store = store
    this.slot = slot
    this.ns = ns
  }

  get(id: unknown): Cell | undefined {
    return this.store.cellGet(this.slot, this.ns, id)
  }

  put(id: unknown, c: Cell): void {
    this.store.cellPut(this.slot, this.ns, id, c)
  }

  touch(id: unknown, c: Cell): void {
    this.store.cellTouch(this.slot, this.ns, id, c)
  }

  delete(id: unknown): void {
    this.store.cellDelete(this.slot, this.ns, id)
  }
}

function storeError(e: unknown): SluiceError {
  const msg = e instanceof Error ? e.message : String(e)
  if (/key size|MDB_BAD_VALSIZE|too large/i.test(msg)) {
    return userError('SLUICE_STATE_KEY', 'state: a key or namespace is too long for the durable store', { cause: e, hint: 'keep key identities and namespaces under about 1,900 bytes' })
  }
  return new SluiceError('SLUICE_STATE_STORE', 'state: the durable state store failed', { domain: 'external', cause: e })
}
