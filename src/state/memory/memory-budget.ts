import { getHeapStatistics } from 'node:v8'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { resourceLimits } from 'node:worker_threads'
import { SluiceError } from '../../core/errors.ts'

/** What a budget asks of a backend: the approximate bytes its state holds now, and its entries. */
export interface MeasuredState {
  approximateBytes(): number
  stats(): { entries: number }
}

/** Share of the V8 heap limit that keyed state on the heap may take by default. */
export const DEFAULT_BUDGET_SHARE = 0.6

/** The default budget of a thread: 60% of its old generation's limit (`--max-old-space-size`, or V8's own). */
export function defaultMemoryBudget(): number {
  return Math.floor(oldGenerationLimit() * DEFAULT_BUDGET_SHARE)
}

const MB = 1024 * 1024
/** What V8 reserves for the young generation on 64-bit builds (three semi-spaces of 64 MB), unless told. */
const YOUNG_RESERVE = 192 * MB

/**
 * The bytes long-lived objects (state) may take in this thread's heap. V8's `heap_size_limit` also counts the
 * young generation (192 MB by default, whatever the old generation's size), so with `--max-old-space-size=128`
 * it says 320 MB: the old generation's own limit is taken from the flag (or a worker's resource limits) when
 * given, and from the heap limit less the young reserve otherwise.
 */
export function oldGenerationLimit(): number {
  const limit = getHeapStatistics().heap_size_limit
  const worker = resourceLimits.maxOldGenerationSizeMb
  if (typeof worker === 'number' && worker > 0) return Math.min(limit, worker * MB)
  const flags = [...(process.env.NODE_OPTIONS ?? '').split(/\s+/), ...process.execArgv]
  let old: number | undefined
  for (const f of flags) {
    const m = /^--max-old-space-size=(\d+)$/.exec(f)
    if (m !== null) old = Number(m[1]) * MB
  }
  if (old !== undefined) return Math.min(limit, old)
  return Math.max(limit / 2, limit - YOUNG_RESERVE)
}

/**
 * The bytes keyed state on the heap may take in one thread (one V8 heap), shared by every step's backend.
 * Backends call `check()` now and then as their state grows; past the budget, the job is failed through
 * `onExceeded` with SLUICE_STATE_MEMORY naming the step holding the most state, long before V8 runs out of
 * heap and the process dies.
 *
 * @example
 * const budget = new StateMemoryBudget(512 * 1024 * 1024, (e) => job.fail(e))
 * const backend = new HeapStateBackend({ memory: budget, step: 'count-per-user' })
 */
export class StateMemoryBudget {
  readonly limit: number
  private readonly members: { step: string; state: MeasuredState }[] = []
  private readonly onExceeded: (e: SluiceError) => void
  /** The error once the budget was exceeded (reported once). */
  exceeded: SluiceError | undefined

  constructor(limit: number, onExceeded: (e: SluiceError) => void) {
    this.limit = limit
    this.onExceeded = onExceeded
  }

  /** Counts `state` (the backend of step `step`) against the budget. */
  add(step: string, state: MeasuredState): void {
    this.members.push({ step, state })
  }

  /** The approximate bytes every member holds. */
  used(): number {
    let n = 0
    for (const m of this.members) n += m.state.approximateBytes()
    return n
  }

  /**
   * Fails the job (once) when the members hold more than the budget. The members' estimate can be far too high
   * (strings sliced from a shared buffer count their whole length; sampled entries lean to the hot, large
   * ones), so it must be confirmed by the heap itself: the job fails only when the heap's live bytes (after
   * V8's last full collection) are past the budget too, and the figure it gives is the lower of the two.
   */
  check(): void {
    if (this.exceeded !== undefined) return
    const estimate = this.used()
    if (estimate <= this.limit) return
    const heap = liveHeapBytes()
    if (heap <= this.limit) return
    const used = Math.min(estimate, heap)
    let top = this.members[0]
    let topBytes = -1
    for (const m of this.members) {
      const b = m.state.approximateBytes()
      if (b > topBytes) {
        top = m
        topBytes = b
      }
    }
    const entries = top.state.stats().entries
    const share = (topBytes * used) / estimate
    this.exceeded = new SluiceError(
      'SLUICE_STATE_MEMORY',
      `keyed state on the heap grew past its memory budget of ${mb(this.limit)} (about ${mb(used)}); step '${top.step}' holds the most: about ${mb(share)} in ${entries} entries`,
      {
        step: top.step,
        hint: "keep state on disk with --state durable (state: { backend: 'durable' }), let old keys expire with a ttl on the step, or give it more memory: --state-memory (state.memoryBudget) and node --max-old-space-size",
      },
    )
    this.onExceeded(this.exceeded)
  }
}

let afterFullGc: number | undefined
let watching = false

/**
 * The bytes in use on this thread's heap right after V8's last full (mark-compact) collection, about its live
 * objects; before the first one, what is in use now (live objects and garbage: an upper bound).
 */
export function liveHeapBytes(): number {
  if (!watching) {
    watching = true
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) afterFullGc = getHeapStatistics().used_heap_size
      }
    }).observe({ entryTypes: ['gc'] })
  }
  return afterFullGc ?? getHeapStatistics().used_heap_size
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`
}
