import { SluiceError } from '../../core/errors.ts'
import { scrubMessage } from '../../core/scrub.ts'

export { scrubMessage }

/** What a log line keeps of an error: its code, domain, step and position, and a message without record contents. */
export interface SafeError {
  type: string
  code?: string
  domain?: string
  step?: string
  position?: string | number
  message: string
}

/**
 * An error as a log line may show it. A SluiceError's own words are kept (they name steps and positions, never
 * contents) but the message of a foreign cause it quotes is scrubbed; any other error's message is scrubbed.
 * @example safeError(new Error('bad "x"')) // { type: 'Error', message: 'bad "…"' }
 */
export function safeError(e: unknown): SafeError {
  if (e instanceof SluiceError) {
    const cause = e.cause instanceof Error && !(e.cause instanceof SluiceError) ? e.cause.message : undefined
    const message = cause !== undefined && cause !== '' && e.message.endsWith(cause) ? e.message.slice(0, -cause.length) + scrubMessage(cause) : e.message
    return {
      type: e.name,
      code: e.code,
      domain: e.domain,
      ...(e.step !== undefined ? { step: e.step } : {}),
      ...(e.position !== undefined ? { position: e.position } : {}),
      message,
    }
  }
  if (e instanceof Error) return { type: e.name, message: scrubMessage(e.message) }
  return { type: typeof e, message: '(not an Error)' }
}
