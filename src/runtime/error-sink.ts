import { BatchBuilder, type Position } from '../core/batch.ts'
import { SluiceError, errorMessage } from '../core/errors.ts'
import type { ErrorPolicy, ErrorRecord, ErrorSink } from '../core/operator.ts'
import type { StepMetrics } from '../core/metrics.ts'

/**
 * Applies the pipeline's error policy to records that failed in user code or could not be parsed:
 * `fail` stops the job with the step and position, `skip` counts and drops, `error-output` counts and
 * buffers an ErrorRecord for the pipeline's `errors()` stream (flushed between batches).
 */
export class PolicyErrorSink implements ErrorSink {
  readonly policy: ErrorPolicy
  readonly pending = new BatchBuilder<ErrorRecord>()
  private readonly metricsOf: (step: string) => StepMetrics | undefined

  constructor(policy: ErrorPolicy, metricsOf: (step: string) => StepMetrics | undefined) {
    this.policy = policy
    this.metricsOf = metricsOf
  }

  report(step: string, error: unknown, record: unknown, time: number, position: Position | undefined): void {
    if (error instanceof SluiceError && error.domain === 'internal') throw error
    const m = this.metricsOf(step)
    if (m !== undefined) m.errors++
    if (this.policy === 'fail') {
      const where = position === undefined ? '' : ` at ${position}`
      throw new SluiceError('SLUICE_USER_FUNCTION_FAILED', `step '${step}' failed on the record${where}: ${errorMessage(error)}`, {
        domain: 'user',
        step,
        position,
        cause: error,
        hint: "fix the function or the input; or set pipeline(name, { onError: 'skip' | 'error-output' }) to keep going",
      })
    }
    if (this.policy === 'skip') {
      if (m !== undefined) m.dropped++
      return
    }
    this.pending.push({ step, error: errorMessage(error), position: position ?? null, record }, Number.isFinite(time) ? time : Date.now())
  }
}
