import { BatchBuilder, type Position } from '../core/batch.ts'
import { SluiceError, errorMessage, isTransient } from '../core/errors.ts'
import { scrubMessage } from '../core/scrub.ts'
import type { ErrorPolicy, ErrorRecord, ErrorSink } from '../core/operator.ts'
import { countViolation, violationRule, type StepMetrics } from '../core/metrics.ts'
import { deadLetter, type DeadLetter, type DeadLetterReason } from '../dlq/record.ts'
import { backoffDelay, noRetries, type RetryPolicy } from '../dlq/retry.ts'
import type { LetterWriter } from '../dlq/letter-writer.ts'

/** What the runtime sets on the error sink once the pipeline is known (see attach-dead-letters.ts). */
export interface ErrorSinkConfig {
  pipeline: string
  retries: RetryPolicy
  /**
   * Processing time, from the run's injected clock: when a dead letter was written, and the time of an error
   * record whose input had no event time (a processing-time source, a line that could not be parsed).
   */
  now: () => number
  /** Keep the error's stack in dead letters. */
  includeStack: boolean
  /** Applied to each dead letter before it leaves the thread (the personal fields encrypted). */
  protectLetter?: (d: DeadLetter) => DeadLetter
}

/**
 * Applies the pipeline's error policy to records that failed in user code or could not be parsed:
 * `fail` stops the job with the step and position, `skip` counts and drops, `error-output` counts and
 * buffers an ErrorRecord for the pipeline's `errors()` stream (flushed between batches), `dead-letter`
 * counts and hands a DeadLetter to the dead-letter writer (or buffers it in `letters` where no writer is
 * attached: a worker thread sends those to the main thread). Transient errors are retried first (`retry`).
 */
export class PolicyErrorSink implements ErrorSink {
  readonly policy: ErrorPolicy
  readonly pending = new BatchBuilder<ErrorRecord>()
  /** Dead letters not handed to a writer yet. */
  letters: DeadLetter[] = []
  /** The run's dead-letter writer under `dead-letter` (the checkpoint coordinator calls its preCommit / commit / recover). */
  deadLetters: LetterWriter | undefined = undefined
  private readonly metricsOf: (step: string) => StepMetrics | undefined
  private config: ErrorSinkConfig = { pipeline: '', retries: noRetries, now: Date.now, includeStack: false }
  /** Calls made by the last `retry` that gave up, for the report that follows it. */
  private attempts = 1

  constructor(policy: ErrorPolicy, metricsOf: (step: string) => StepMetrics | undefined) {
    this.policy = policy
    this.metricsOf = metricsOf
  }

  configure(c: Partial<ErrorSinkConfig>): void {
    this.config = { ...this.config, ...c }
  }

  /** Attaches the dead-letter writer; letters buffered so far go to it. */
  attach(writer: LetterWriter): void {
    this.deadLetters = writer
    this.addLetters(this.letters.splice(0))
  }

  /** Letters from elsewhere (a worker thread), for the attached writer. */
  addLetters(letters: DeadLetter[]): void {
    if (this.deadLetters === undefined) {
      for (const l of letters) this.letters.push(l)
      return
    }
    for (const l of letters) this.deadLetters.add(l)
  }

  retry(step: string, error: unknown, fn: (this: any, a: any, b: any) => unknown, self: unknown, a: unknown, b?: unknown): unknown {
    const r = this.config.retries
    this.attempts = 1
    if (r.attempts === 0 || !isTransient(error)) throw error
    const m = this.metricsOf(step)
    let last = error
    for (let k = 1; k <= r.attempts; k++) {
      r.sleep(backoffDelay(r, k))
      if (m !== undefined) m.retries++
      this.attempts = k + 1
      try {
        const v = fn.call(self, a, b)
        this.attempts = 1
        return v
      } catch (e) {
        last = e
        if (!isTransient(e)) break
      }
    }
    throw last
  }

  report(step: string, error: unknown, record: unknown, time: number, position: Position | undefined): void {
    this.apply(step, error, record, time, position, false)
  }

  /** A line a source could not decode (ctx.malformed): like `report`, but the record is the raw line. */
  malformed(step: string, error: unknown, raw: string | Uint8Array, time: number, position: Position | undefined): void {
    this.apply(step, error, raw, time, position, true)
  }

  /**
   * A record failed where it cannot take the error path (a sink that the errors stream feeds): it is
   * counted as an error and dropped, or stops the job under `fail`.
   */
  dropUnreportable(step: string, error: unknown): void {
    if (this.policy === 'fail') return this.apply(step, error, undefined, NaN, undefined, false)
    const m = this.metricsOf(step)
    if (m !== undefined) {
      m.errors++
      m.dropped++
      const rule = violationRule(error)
      if (rule !== undefined) countViolation(m, rule)
    }
  }

  private apply(step: string, error: unknown, record: unknown, time: number, position: Position | undefined, raw: boolean): void {
    const attempts = this.attempts
    this.attempts = 1
    if (error instanceof SluiceError && error.domain === 'internal') throw error
    const m = this.metricsOf(step)
    const rule = violationRule(error)
    if (m !== undefined) {
      m.errors++
      if (rule !== undefined) countViolation(m, rule)
    }
    if (this.policy === 'fail') {
      const where = position === undefined ? '' : ` at ${position}`
      const tries = attempts > 1 ? ` after ${attempts} attempts` : ''
      // What Sluice found wrong with a record (a parse error, a bad key or result) keeps its own code.
      if (error instanceof SluiceError && error.domain === 'user' && error.code !== 'SLUICE_USER_FUNCTION_FAILED') {
        const msg = error.message.includes(`'${step}'`) ? error.message : `step '${step}': ${error.message}`
        throw new SluiceError(error.code, `${msg}${where === '' || msg.includes(String(position)) ? '' : ` (the record${where})`}`, {
          domain: 'user',
          step,
          position,
          cause: error,
          hint: error.hint ?? "fix the input; or set pipeline(name, { onError: 'skip' | 'error-output' | 'dead-letter' }) to keep going",
        })
      }
      throw new SluiceError('SLUICE_USER_FUNCTION_FAILED', `step '${step}' failed on the record${where}${tries}: ${scrubMessage(errorMessage(error))}`, {
        domain: 'user',
        step,
        position,
        cause: error,
        hint: "fix the function or the input; or set pipeline(name, { onError: 'skip' | 'error-output' | 'dead-letter' }) to keep going",
      })
    }
    if (this.policy === 'skip') {
      if (m !== undefined) m.dropped++
      return
    }
    if (this.policy === 'dead-letter') {
      const source = m !== undefined && m.kind.startsWith('source-')
      // A record a contract or a quality expectation refused failed a check, not a function.
      const checked = rule !== undefined || (error as { code?: unknown } | null)?.code === 'SLUICE_EXPECTATION_FAILED'
      const reason: DeadLetterReason = raw ? 'parse' : source || checked ? 'validation' : 'user-function'
      const { pipeline, now, includeStack } = this.config
      const built = deadLetter({ pipeline, step, reason, error, position, attempts, time: now(), eventTime: source ? undefined : time, record, raw, includeStack })
      const letter = this.config.protectLetter !== undefined ? this.config.protectLetter(built) : built
      if (this.deadLetters !== undefined) this.deadLetters.add(letter)
      else this.letters.push(letter)
      return
    }
    // An error record keeps the failed record's event time, so it falls in the same windows downstream.
    this.pending.push({ step, error: errorMessage(error), position: position ?? null, record }, Number.isFinite(time) ? time : this.config.now())
  }
}
