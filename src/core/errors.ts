import { ERROR_CODES, type ErrorCode, type ErrorDomain } from './error-codes.ts'
import { scrubMessage } from './scrub.ts'

export { ERROR_CODES, isErrorCode, type ErrorCode, type ErrorDomain } from './error-codes.ts'

export interface SluiceErrorOptions {
  domain?: ErrorDomain
  retryable?: boolean
  step?: string
  position?: string | number
  hint?: string
  cause?: unknown
}

/**
 * The one error class of Sluice. `code` is stable and registered (src/core/error-codes.ts), `domain` says whose
 * fault it is (by default the code's), `retryable` whether trying again may help. Messages name the step and
 * the record position, never the record's contents.
 * @example throw new SluiceError('SLUICE_FILE_NOT_FOUND', `file '${path}' does not exist`, { step: 'read-orders', hint: 'check the path' })
 */
export class SluiceError extends Error {
  /**
   * Stable identifier, e.g. `SLUICE_SCHEMA_MISMATCH`: match on it, not on the message.
   * @example if (e instanceof SluiceError && e.code === 'SLUICE_FILE_NOT_FOUND') console.error(e.hint)
   */
  readonly code: ErrorCode
  /**
   * Whose fault: `user` (pipeline or data), `external` (another system), `internal` (a Sluice bug).
   * @example if (e instanceof SluiceError && e.domain === 'external') console.error('the other system failed:', e.message)
   */
  readonly domain: ErrorDomain
  /**
   * Whether trying again may help.
   * @example if (e instanceof SluiceError && e.retryable) await run(p) // one more try
   */
  readonly retryable: boolean
  /**
   * The id of the pipeline step where it happened, when known.
   * @example if (e instanceof SluiceError) console.error(`step ${e.step ?? '?'}: ${e.message}`)
   */
  readonly step: string | undefined
  /**
   * The position of the record in its source (e.g. `file.jsonl:17`), when known.
   * @example if (e instanceof SluiceError) console.error(`at ${e.position}`) // 'orders.jsonl:17'
   */
  readonly position: string | number | undefined
  /**
   * What to do about it.
   * @example if (e instanceof SluiceError && e.hint !== undefined) console.error(`hint: ${e.hint}`)
   */
  readonly hint: string | undefined

  constructor(code: ErrorCode, message: string, opts: SluiceErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'SluiceError'
    this.code = code
    this.domain = opts.domain ?? ERROR_CODES[code]?.domain ?? 'internal'
    this.retryable = opts.retryable ?? false
    this.step = opts.step
    this.position = opts.position
    this.hint = opts.hint
  }

  /**
   * One line for a terminal: code, where, what, and what to do.
   * @example if (e instanceof SluiceError) console.error(e.describe())
   */
  describe(): string {
    const parts: string[] = []
    if (this.step && !this.message.includes(`'${this.step}'`)) parts.push(`step '${this.step}'`)
    if (this.position !== undefined && !this.message.includes(String(this.position))) parts.push(`at ${this.position}`)
    const where = parts.length > 0 ? ` (${parts.join(' ')})` : ''
    const causeMsg = this.cause instanceof Error ? this.cause.message : ''
    // A message that shows its cause scrubbed (see scrubMessage) must not get it back raw here.
    const cause = causeMsg && !this.message.includes(causeMsg) && !this.message.includes(scrubMessage(causeMsg)) ? `: ${causeMsg}` : ''
    return `${this.code}${where}: ${this.message}${cause}${this.hint ? `\n  hint: ${this.hint}` : ''}`
  }
}

/**
 * Throw it from a user function when trying again may succeed (a timeout, a busy service): the record is
 * retried with backoff (pipeline option `retries`) before the pipeline's error policy applies. Any error
 * with `transient: true`, and a SluiceError with `retryable: true`, counts as transient too.
 * @example throw new TransientError('rates service timed out', { cause: e })
 */
export class TransientError extends Error {
  /**
   * Marks the error as worth retrying.
   * @example new TransientError('rates service timed out').transient // true: the record is retried
   */
  readonly transient = true
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TransientError'
  }
}

/** Whether retrying may help: a TransientError, an error with `transient: true`, or a retryable SluiceError that is not internal. */
export function isTransient(e: unknown): boolean {
  if (e instanceof SluiceError) return e.retryable && e.domain !== 'internal'
  return e instanceof TransientError || (typeof e === 'object' && e !== null && (e as { transient?: unknown }).transient === true)
}

export function userError(code: ErrorCode, message: string, opts: SluiceErrorOptions = {}): SluiceError {
  return new SluiceError(code, message, { ...opts, domain: 'user' })
}

export function internalError(message: string, opts: SluiceErrorOptions = {}): SluiceError {
  return new SluiceError('SLUICE_INTERNAL', message, { ...opts, domain: 'internal' })
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
