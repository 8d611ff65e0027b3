import { SluiceError, errorMessage, type ErrorDomain } from '../../core/errors.ts'
import type { ErrorCode } from '../../core/error-codes.ts'

export interface SerializedError {
  name: string
  message: string
  stack: string | undefined
  code: ErrorCode | undefined
  domain: ErrorDomain | undefined
  retryable: boolean | undefined
  step: string | undefined
  position: string | number | undefined
  hint: string | undefined
  cause: string | undefined
}

/** An error as plain data, keeping a SluiceError's code, step, position and hint. */
export function serializeError(e: unknown): SerializedError {
  const err = e instanceof Error ? e : undefined
  const s = e instanceof SluiceError ? e : undefined
  return {
    name: err?.name ?? 'Error',
    message: errorMessage(e),
    stack: err?.stack,
    code: s?.code,
    domain: s?.domain,
    retryable: s?.retryable,
    step: s?.step,
    position: s?.position,
    hint: s?.hint,
    cause: err?.cause === undefined ? undefined : errorMessage(err.cause),
  }
}

/** Rebuilds a serialised error: a SluiceError stays one (same code and fields); anything else is internal. */
export function deserializeError(s: SerializedError, where: string): SluiceError {
  const cause = s.cause === undefined ? undefined : new Error(s.cause)
  if (s.code !== undefined) {
    const e = new SluiceError(s.code, s.message, { domain: s.domain, retryable: s.retryable, step: s.step, position: s.position, hint: s.hint, cause })
    if (s.stack !== undefined) e.stack = s.stack
    return e
  }
  const inner = new Error(s.message)
  inner.name = s.name
  if (s.stack !== undefined) inner.stack = s.stack
  return new SluiceError('SLUICE_INTERNAL', `${where} failed`, { domain: 'internal', cause: inner })
}
