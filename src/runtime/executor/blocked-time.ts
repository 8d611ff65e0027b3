import type { StepMetrics } from '../../core/metrics.ts'

/**
 * Time a thread's subtasks spend blocked on output (backpressure), counted into their `backpressureMs`:
 * - a source subtask held back because a channel to another thread has no credit left;
 * - a subtask waiting for the pending write of a sink it feeds in the same thread.
 * A stall still going on counts up to the moment the figures are read (`chargeOngoing`), so a stalled job
 * shows it while it lasts.
 */
export class BlockedTime {
  private creditSince: number | undefined
  private sinkSince: number | undefined
  /** Figures of the subtasks feeding the sinks whose writes are pending. */
  private readonly feeders = new Set<StepMetrics>()

  /** On every turn of the loop: the sources (`sources()`, those still reading) may read, or lack credit. */
  credit(reading: boolean, hasCredit: boolean, sources: () => StepMetrics[]): void {
    if (reading && !hasCredit) this.creditSince ??= performance.now()
    else this.chargeCredit(sources, false)
  }

  /** A sink's write is pending: `feeders` wait for it. */
  sinkPending(feeders: readonly StepMetrics[]): void {
    for (const m of feeders) this.feeders.add(m)
  }

  /** The thread starts waiting for pending sink writes. */
  sinkWaitStarts(): void {
    this.sinkSince = performance.now()
  }

  /** Every pending write has settled. */
  sinkWaitEnds(): void {
    this.chargeSinks(false)
  }

  /** Counts the stalls still going on up to now (before the figures are read). */
  chargeOngoing(sources: () => StepMetrics[]): void {
    this.chargeCredit(sources, true)
    this.chargeSinks(true)
  }

  private chargeCredit(sources: () => StepMetrics[], ongoing: boolean): void {
    if (this.creditSince === undefined) return
    const t = performance.now()
    for (const m of sources()) m.backpressureMs += t - this.creditSince
    this.creditSince = ongoing ? t : undefined
  }

  private chargeSinks(ongoing: boolean): void {
    if (this.sinkSince === undefined) return
    const t = performance.now()
    for (const m of this.feeders) m.backpressureMs += t - this.sinkSince
    if (ongoing) {
      this.sinkSince = t
      return
    }
    this.sinkSince = undefined
    this.feeders.clear()
  }
}
