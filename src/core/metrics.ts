/** Counters kept per step, updated once per batch. */
export class StepMetrics {
  readonly step: string
  readonly kind: string
  recordsIn = 0
  recordsOut = 0
  /** Late records diverted to the late output. */
  late = 0
  /** Records whose user function failed. */
  errors = 0
  /** Records dropped on purpose (error policy `skip`, or a side output that nothing consumes). */
  dropped = 0
  /** Calls of a user function repeated after a transient error (pipeline option `retries`). */
  retries = 0
  constructor(step: string, kind: string) {
    this.step = step
    this.kind = kind
  }
  toJSON(): StepMetricsJson {
    return { step: this.step, kind: this.kind, in: this.recordsIn, out: this.recordsOut, late: this.late, errors: this.errors, dropped: this.dropped, ...(this.retries > 0 ? { retries: this.retries } : {}) }
  }
}

export interface StepMetricsJson {
  step: string
  kind: string
  in: number
  out: number
  late: number
  errors: number
  dropped: number
  /** Present when some call was retried. */
  retries?: number
}
