import type { Namespace, SnapshotEntry, StateBackendOptions, TimerService } from '../../core/state-backend.ts'
import { type Cell, type CellTable, EMPTY, fromWire, type StateSlot } from '../cells.ts'
import { copyThrough } from '../../core/state-codec.ts'
import { KeyedStateBackend, type SweepVisitor } from '../keyed-state-backend.ts'
import { TimerQueue } from '../timers.ts'

/** The cells of one state: the default namespace, and a table per other namespace (dropped when empty). */
interface HeapState {
  readonly main: Map<unknown, Cell>
  readonly spaces: Map<Namespace, Map<unknown, Cell>>
  cursor: Iterator<[Map<unknown, Cell>, unknown, Cell, Namespace]> | undefined
}

/**
 * Keyed state on the JavaScript heap: the default, fastest backend. Values are held as they are given
 * (no copy); the codec is used only to copy them into and out of snapshots.
 */
export class HeapStateBackend extends KeyedStateBackend {
  readonly kind = 'heap'
  readonly holdsValues = true
  private readonly states: HeapState[] = []

  constructor(opts: StateBackendOptions = {}) {
    super(opts)
  }

  protected newTimers(): TimerService {
    return new TimerQueue()
  }

  protected override onSlot(slot: StateSlot): void {
    this.states[slot.no] = { main: new Map(), spaces: new Map(), cursor: undefined }
  }

  table(slot: StateSlot, ns: Namespace): CellTable {
    const s = this.states[slot.no]
    if (ns === '') {
      const m = s.main
      return {
        get: (id) => m.get(id),
        put: (id, c) => void m.set(id, c),
        touch: () => {},
        delete: (id) => void m.delete(id),
      }
    }
    return {
      get: (id) => s.spaces.get(ns)?.get(id),
      put: (id, c) => {
        let m = s.spaces.get(ns)
        if (m === undefined) s.spaces.set(ns, (m = new Map()))
        m.set(id, c)
      },
      touch: () => {},
      delete: (id) => {
        const m = s.spaces.get(ns)
        if (m !== undefined && m.delete(id) && m.size === 0) s.spaces.delete(ns)
      },
    }
  }

  protected forEachCell(slot: StateSlot, fn: (ns: Namespace, id: unknown, cell: Cell, fresh: boolean) => void): void {
    const s = this.states[slot.no]
    for (const [id, c] of s.main) fn('', id, c, false)
    for (const [ns, m] of s.spaces) for (const [id, c] of m) fn(ns, id, c, false)
  }

  protected count(slot: StateSlot): number {
    const s = this.states[slot.no]
    let n = s.main.size
    for (const m of s.spaces.values()) n += m.size
    return n
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
