import type { Namespace, SnapshotEntry, StateBackendOptions, TimerService } from '../../core/state-backend.ts'
import { type Cell, type CellTable, EMPTY, fromWire, type StateSlot } from '../cells.ts'
import { copyThrough } from '../../core/state-codec.ts'
import { KeyedStateBackend, type SweepVisitor } from '../keyed-state-backend.ts'
import { TimerQueue } from '../timers.ts'
import { estimateBytes } from '../memory/size-estimate.ts'
import type { StateMemoryBudget } from '../memory/memory-budget.ts'

/** Options of the heap backend: those of every backend, and the memory budget its state counts against. */
export interface HeapStateBackendOptions extends StateBackendOptions {
  /** The thread's budget for keyed state on the heap (see StateMemoryBudget). */
  memory?: StateMemoryBudget
  /** The step whose state this is, named when the budget is exceeded. */
  step?: string
}

/** A map entry and a cell: what every entry costs before its key and value. */
const ENTRY_BYTES = 96
/** Entries measured first in each state, then one write in PUT_EVERY, one update in TOUCH_EVERY, one read in READ_EVERY. */
const FIRST_SAMPLES = 16
const PUT_EVERY = 32
const TOUCH_EVERY = 64
const READ_EVERY = 256

/** The cells of one state: the default namespace, and a table per other namespace (dropped when empty). */
interface HeapState {
  readonly main: Map<unknown, Cell>
  readonly spaces: Map<Namespace, Map<unknown, Cell>>
  cursor: Iterator<[Map<unknown, Cell>, unknown, Cell, Namespace]> | undefined
  /** Entries in every namespace. */
  entries: number
  /** Approximate bytes per entry (a running mean of sampled entries) and how many were sampled. */
  avg: number
  samples: number
  puts: number
  touches: number
}

/**
 * Keyed state on the JavaScript heap: the default, fastest backend. Values are held as they are given
 * (no copy); the codec is used only to copy them into and out of snapshots. Its size is accounted
 * approximately (entries times the measured size of a sample of them) against the thread's memory budget.
 */
export class HeapStateBackend extends KeyedStateBackend {
  readonly kind = 'heap'
  readonly holdsValues = true
  readonly insertionOrdered = true
  private readonly states: HeapState[] = []
  private readonly memory: StateMemoryBudget | undefined
  private reads = 0

  constructor(opts: HeapStateBackendOptions = {}) {
    super(opts)
    this.memory = opts.memory
    opts.memory?.add(opts.step ?? 'state', this)
  }

  /** Approximate bytes of every entry held (entries times their sampled size). */
  approximateBytes(): number {
    let n = 0
    for (const s of this.states) n += s.entries * s.avg
    return n
  }

  /** Measures one entry into its state's running mean, then checks the budget. */
  private sample(s: HeapState, id: unknown, c: Cell): void {
    const bytes = ENTRY_BYTES + estimateBytes(id) + estimateBytes(c.v) + (typeof c.e === 'object' && c.e !== null ? estimateBytes(c.e) : 0)
    s.samples++
    s.avg += (bytes - s.avg) / Math.min(s.samples, 64)
    this.memory?.check()
  }

  protected newTimers(): TimerService {
    return new TimerQueue()
  }

  protected override onSlot(slot: StateSlot): void {
    this.states[slot.no] = { main: new Map(), spaces: new Map(), cursor: undefined, entries: 0, avg: 0, samples: 0, puts: 0, touches: 0 }
  }

  table(slot: StateSlot, ns: Namespace): CellTable {
    const s = this.states[slot.no]
    // Sizes are sampled: the first entries of a state, then one in so many writes, updates and reads (a read
    // sees entries that operators change in place).
    const put = (m: Map<unknown, Cell>, id: unknown, c: Cell): void => {
      const before = m.size
      m.set(id, c)
      s.entries += m.size - before
      if (s.samples < FIRST_SAMPLES || ++s.puts % PUT_EVERY === 0) this.sample(s, id, c)
    }
    const touch = (id: unknown, c: Cell): void => {
      if (++s.touches % TOUCH_EVERY === 0) this.sample(s, id, c)
    }
    const read = (id: unknown, c: Cell | undefined): Cell | undefined => {
      if (c !== undefined && ++this.reads % READ_EVERY === 0) this.sample(s, id, c)
      return c
    }
    if (ns === '') {
      const m = s.main
      return {
        get: (id) => read(id, m.get(id)),
        put: (id, c) => put(m, id, c),
        touch,
        delete: (id) => {
          if (m.delete(id)) s.entries--
        },
      }
    }
    return {
      get: (id) => read(id, s.spaces.get(ns)?.get(id)),
      put: (id, c) => {
        let m = s.spaces.get(ns)
        if (m === undefined) s.spaces.set(ns, (m = new Map()))
        put(m, id, c)
      },
      touch,
      delete: (id) => {
        const m = s.spaces.get(ns)
        if (m === undefined || !m.delete(id)) return
        s.entries--
        if (m.size === 0) s.spaces.delete(ns)
      },
    }
  }

  protected forEachCell(slot: StateSlot, fn: (ns: Namespace, id: unknown, cell: Cell, fresh: boolean) => void): void {
    const s = this.states[slot.no]
    for (const [id, c] of s.main) fn('', id, c, false)
    for (const [ns, m] of s.spaces) for (const [id, c] of m) fn(ns, id, c, false)
  }

  protected count(slot: StateSlot): number {
    return this.states[slot.no].entries
  }

  protected sweep(slot: StateSlot, budget: number, fn: SweepVisitor, fromStart: boolean): { visited: number; removed: number; wrapped: boolean } {
    const s = this.states[slot.no]
    if (fromStart || s.cursor === undefined) s.cursor = walk(s)
    let visited = 0
    let removed = 0
    while (visited < budget) {
      const r = s.cursor.next()
      if (r.done === true) {
        s.cursor = undefined
        return { visited, removed, wrapped: true }
      }
      const [m, id, c, ns] = r.value
      visited++
      if (fn(ns, id, c) === EMPTY) {
        m.delete(id)
        s.entries--
        removed++
        if (m.size === 0 && m !== s.main) s.spaces.delete(ns)
      }
    }
    return { visited, removed, wrapped: false }
  }

  protected clearCells(): void {
    for (const s of this.states) {
      s.main.clear()
      s.spaces.clear()
      s.cursor = undefined
      s.entries = 0
    }
  }

  protected load(slot: StateSlot, ns: Namespace, id: unknown, value: unknown, expiry: SnapshotEntry[3]): void {
    const c = fromWire(slot, copyThrough(slot.codec, value), Array.isArray(expiry) ? expiry.slice() : expiry)
    this.table(slot, ns).put(id, c)
  }
}

function* walk(s: HeapState): Generator<[Map<unknown, Cell>, unknown, Cell, Namespace]> {
  for (const [id, c] of s.main) yield [s.main, id, c, '']
  for (const [ns, m] of s.spaces) for (const [id, c] of m) yield [m, id, c, ns]
}
