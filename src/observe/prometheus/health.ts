import type { MetricsSnapshot } from '../metrics/registry.ts'

/** The answer of a probe: whether it passes, and why not. */
export interface ProbeResult {
  ok: boolean
  /** Short reasons a probe fails (empty when it passes); no record contents, only states and counts. */
  reasons: string[]
}

/**
 * Liveness and readiness of a job, read from its metrics snapshots. Alive: the job has not failed (the process
 * answers at all). Ready: the job runs (its sources are open and its state restored) and no more than
 * `maxCheckpointFailures` checkpoints failed in a row. It remembers the checkpoint counts it saw last, so use
 * one per job.
 * @example
 * const health = new JobHealth({ maxCheckpointFailures: 3 })
 * health.ready(registry.snapshot()) // { ok: false, reasons: ["status is 'starting'"] }
 */
export class JobHealth {
  private readonly maxFailures: number
  private completed = 0
  private failedBefore = 0

  constructor(opts: { maxCheckpointFailures?: number } = {}) {
    this.maxFailures = opts.maxCheckpointFailures ?? 3
  }

  alive(s: MetricsSnapshot): ProbeResult {
    return s.status === 'failed' ? { ok: false, reasons: ['status is \'failed\''] } : { ok: true, reasons: [] }
  }

  ready(s: MetricsSnapshot): ProbeResult {
    const reasons: string[] = []
    if (s.status !== 'running') reasons.push(`status is '${s.status}'`)
    const failed = this.failuresInARow(s)
    if (failed > this.maxFailures) reasons.push(`${failed} checkpoints failed in a row (more than ${this.maxFailures})`)
    return { ok: reasons.length === 0, reasons }
  }

  /** Checkpoints failed since the last one completed (counted from the snapshots seen). */
  private failuresInARow(s: MetricsSnapshot): number {
    const c = s.checkpoints
    if (c.completed !== this.completed) {
      this.completed = c.completed
      this.failedBefore = c.failed
    }
    return c.failed - this.failedBefore
  }
}
