/** The error codes of the Confluent Schema Registry that this registry answers with, and their HTTP status. */
export const REGISTRY_ERRORS = {
  40401: { status: 404, text: 'Subject not found' },
  40402: { status: 404, text: 'Version not found' },
  40403: { status: 404, text: 'Schema not found' },
  40404: { status: 404, text: 'Subject was soft deleted' },
  40405: { status: 404, text: 'Subject was not deleted first before being permanently deleted' },
  40406: { status: 404, text: 'Version was soft deleted' },
  40407: { status: 404, text: 'Version was not deleted first before being permanently deleted' },
  40408: { status: 404, text: 'Subject compatibility level not configured' },
  409: { status: 409, text: 'Schema being registered is incompatible with an earlier schema' },
  42201: { status: 422, text: 'Invalid schema' },
  42202: { status: 422, text: 'Invalid version' },
  42203: { status: 422, text: 'Invalid compatibility level' },
  50001: { status: 500, text: 'Error in the backend data store' },
} as const

export type RegistryErrorCode = keyof typeof REGISTRY_ERRORS

/**
 * A refusal of the registry, with a Confluent error code; the HTTP layer sends `{ error_code, message }`.
 * @example throw new RegistryError(40401, "Subject 'bids-value' not found.")
 */
export class RegistryError extends Error {
  readonly errorCode: RegistryErrorCode
  constructor(errorCode: RegistryErrorCode, message?: string) {
    super(message ?? REGISTRY_ERRORS[errorCode].text)
    this.name = 'RegistryError'
    this.errorCode = errorCode
  }
  get status(): number {
    return REGISTRY_ERRORS[this.errorCode].status
  }
}
