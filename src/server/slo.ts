import type { MetricsSnapshot } from '../observe/metrics/registry.ts'
import { sloTargets, type SloName, type SloSpec, type SloTarget } from '../observe/slo/spec.ts'
import { sloStatus } from '../observe/slo/status.ts'

/** One objective's status as the API serves it. */
export interface SloReport {
  slo: SloName
  objective: number
  /** Share of good events (null: no events yet, or not measurable here). */
  sli: number | null
  /** Share of the error budget left (below 0: overspent; null with sli). */
  budgetLeft: number | null
  /** `met` while the SLI is at or above the objective, `breached` below it, `unknown` without data. */
  state: 'met' | 'breached' | 'unknown'
  /** `local`: measured by the server from the job's metrics since it started; `prometheus`: the recorded rules. */
  source: 'local' | 'prometheus'
  alerts: string[]
}

/** Samples the freshness of a job once a second (the share of samples whose sinks' lag was under the threshold). */
interface Freshness {
  good: number
  total: number
}

const sum = (s: MetricsSnapshot, f: (t: MetricsSnapshot['steps'][number]) => number, only?: (kind: string) => boolean) => s.steps.filter((t) => only === undefined || only(t.kind)).reduce((a, t) => a + f(t), 0)
const isSource = (k: string) => k.startsWith('source-')
const isSink = (k: string) => k.startsWith('sink-')

/**
 * A job's SLO status: from Prometheus when the server was given its URL (the rules of `sluice slo rules`),
 * otherwise measured locally from the job's metrics since the server started, by the same definitions as the
 * rules (see src/observe/slo/sli.ts); latency needs the sinks' histogram and so Prometheus.
 * @example
 * const slo = new SloTracker('orders', { errors: { objective: 0.999 } }, () => job.metrics())
 * await slo.status() // [{ slo: 'errors', objective: 0.999, sli: 1, budgetLeft: 1, state: 'met', ... }]
 */
export class SloTracker {
  readonly targets: SloTarget[]
  private readonly pipeline: string
  private readonly spec: SloSpec
  private readonly snapshot: () => MetricsSnapshot
  private readonly base: MetricsSnapshot
  private readonly deadLetters: boolean
  private readonly prometheusUrl: string | undefined
  private readonly freshness: Freshness = { good: 0, total: 0 }
  private timer: NodeJS.Timeout | undefined

  constructor(pipeline: string, spec: SloSpec, snapshot: () => MetricsSnapshot, opts: { deadLetters?: boolean; prometheusUrl?: string; sampleMs?: number } = {}) {
    this.pipeline = pipeline
    this.spec = spec
    this.targets = sloTargets(spec, pipeline)
    this.snapshot = snapshot
    this.base = snapshot()
    this.deadLetters = opts.deadLetters === true
    this.prometheusUrl = opts.prometheusUrl
    const fresh = this.targets.find((t) => t.slo === 'freshness')
    if (fresh !== undefined && this.prometheusUrl === undefined) {
      this.timer = setInterval(() => this.sampleFreshness(fresh.thresholdSeconds! * 1000), opts.sampleMs ?? 1000)
      this.timer.unref()
    }
  }

  /** Stops sampling (the job ended). */
  close(): void {
    clearInterval(this.timer)
  }

  private sampleFreshness(thresholdMs: number): void {
    const lags = this.snapshot().steps.filter((t) => isSink(t.kind) && Number.isFinite(t.inputLagMs)).map((t) => t.inputLagMs)
    if (lags.length === 0) return
    this.freshness.total++
    if (Math.max(...lags) <= thresholdMs) this.freshness.good++
  }

  async status(): Promise<SloReport[]> {
    if (this.prometheusUrl !== undefined) {
      const rows = await sloStatus(this.prometheusUrl, this.pipeline, this.spec)
      return rows.map((r) => report(r.slo, r.objective, Number.isNaN(r.sli) ? null : r.sli, 'prometheus', r.alerts))
    }
    const now = this.snapshot()
    const delta = (f: (t: MetricsSnapshot['steps'][number]) => number, only?: (k: string) => boolean) => sum(now, f, only) - sum(this.base, f, only)
    const read = delta((t) => t.recordsIn, isSource)
    const share = (bad: number) => (read > 0 ? 1 - bad / read : null)
    return this.targets.map((t) => {
      switch (t.slo) {
        case 'errors':
          return report(t.slo, t.objective, share(delta((s) => s.errors)), 'local', [])
        case 'completeness':
          return report(t.slo, t.objective, share(delta((s) => s.late) + (this.deadLetters ? delta((s) => s.errors) : 0)), 'local', [])
        case 'freshness':
          return report(t.slo, t.objective, this.freshness.total > 0 ? this.freshness.good / this.freshness.total : null, 'local', [])
        case 'latency':
          return report(t.slo, t.objective, null, 'local', [])
      }
    })
  }
}

function report(slo: SloName, objective: number, sli: number | null, source: SloReport['source'], alerts: string[]): SloReport {
  const budgetLeft = sli === null ? null : 1 - (1 - sli) / (1 - objective)
  return { slo, objective, sli, budgetLeft, state: sli === null ? 'unknown' : sli >= objective ? 'met' : 'breached', source, alerts }
}
