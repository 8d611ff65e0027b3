import type { MetricsSnapshot } from '../observe/metrics/registry.ts'

/** A step of a job graph as the control plane knows it: its id, kind and inputs (step ids, with a side-output tag). */
export interface GraphStep {
  id: string
  kind: string
  inputs: { from: string; tag?: string }[]
}

/** A step with its live figures: records/s in and out since the previous sample, watermark, lag, backpressure. */
export interface LiveStep extends GraphStep {
  recordsIn: number
  recordsOut: number
  inPerSecond: number | null
  outPerSecond: number | null
  /** Epoch ms; null before the first watermark (and once input has ended: '+inf' shown as null too). */
  watermark: number | null
  inputLagMs: number | null
  backpressureMs: number
  late: number
  errors: number
}

/**
 * Rates per step from successive metrics snapshots of one job: each call compares with the previous
 * sample that is at least `minIntervalMs` old.
 * @example
 * const rates = new RateTracker()
 * rates.graph(steps, job.metrics()) // rates null on the first call
 */
export class RateTracker {
  /** The last sample kept, and the one kept before it (used when a call comes too soon after the last). */
  private latest: MetricsSnapshot | undefined
  private base: MetricsSnapshot | undefined
  private readonly minIntervalMs: number

  constructor(minIntervalMs = 500) {
    this.minIntervalMs = minIntervalMs
  }

  graph(steps: readonly GraphStep[] | undefined, now: MetricsSnapshot): LiveStep[] {
    if (this.latest === undefined || now.takenAt - this.latest.takenAt >= this.minIntervalMs) {
      this.base = this.latest
      this.latest = now
    }
    const prev = this.base
    const dt = prev !== undefined ? (now.takenAt - prev.takenAt) / 1000 : 0
    // Without the plan, the steps of the snapshot in plan order, each fed by the one before.
    const shape = steps ?? now.steps.map((t, i) => ({ id: t.step, kind: t.kind, inputs: i === 0 ? [] : [{ from: now.steps[i - 1]!.step }] }))
    return shape.map((s) => {
      const t = now.steps.find((x) => x.step === s.id)
      const p = prev?.steps.find((x) => x.step === s.id)
      const rate = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && dt > 0 ? (a - b) / dt : null)
      const finite = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n : null)
      return {
        ...s,
        recordsIn: t?.recordsIn ?? 0,
        recordsOut: t?.recordsOut ?? 0,
        inPerSecond: rate(t?.recordsIn, p?.recordsIn),
        outPerSecond: rate(t?.recordsOut, p?.recordsOut),
        watermark: finite(t?.watermark),
        inputLagMs: finite(t?.inputLagMs),
        backpressureMs: t?.backpressureMs ?? 0,
        late: t?.late ?? 0,
        errors: t?.errors ?? 0,
      }
    })
  }
}

/** The graph of a pipeline's steps, for the control plane. */
export function graphOf(nodes: readonly { id: string; kind: string; inputs: readonly { from: { id: string }; tag?: string }[] }[]): GraphStep[] {
  return nodes.map((n) => ({ id: n.id, kind: n.kind, inputs: n.inputs.map((e) => ({ from: e.from.id, ...(e.tag !== undefined ? { tag: e.tag } : {}) })) }))
}
