/**
 * W3C trace context (`traceparent: 00-<trace id>-<parent span id>-<flags>`), the one header a record needs to
 * be followed across services. Kept as the header's own string on a batch: parsing costs only where a span is
 * made.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The header name, lower case as HTTP/2 and Kafka clients send it. */
export const TRACEPARENT_HEADER = 'traceparent'

export interface TraceContext {
  traceId: string
  spanId: string
  sampled: boolean
}

/**
 * A `traceparent` value, or undefined when it is not a valid version-00 one (all-zero ids included).
 * @example parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') // { traceId: '4bf9…', spanId: '00f0…', sampled: true }
 */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string') return undefined
  const m = TRACEPARENT.exec(value.trim().toLowerCase())
  if (m === null || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return undefined
  return { traceId: m[1], spanId: m[2], sampled: (parseInt(m[3], 16) & 1) === 1 }
}

/** The `traceparent` value of a context. */
export function formatTraceparent(c: TraceContext): string {
  return `00-${c.traceId}-${c.spanId}-${c.sampled ? '01' : '00'}`
}

/** The valid `traceparent` of a header value (string, bytes, or a list of them), normalised; undefined otherwise. */
export function traceparentOf(header: unknown): string | undefined {
  const v = Array.isArray(header) ? header[0] : header
  const s = typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : undefined
  const c = parseTraceparent(s)
  return c === undefined ? undefined : formatTraceparent(c)
}

/**
 * The context to write in record `i`'s headers at a sink: the batch's (the sink span's, or the trace the batch
 * follows), unless the record was read with a context of another trace, which it keeps. Records of the batch's
 * own trace thus point at the sink span; records of other traces go on in theirs.
 * @example recordTraceparent(batch.trace, batch.traces, i) // '00-<the record's trace id>-…-01'
 */
export function recordTraceparent(batchTrace: string | undefined, traces: readonly (string | undefined)[] | undefined, i: number): string | undefined {
  const own = traces?.[i]
  if (own === undefined || batchTrace === undefined) return own ?? batchTrace
  // Same trace: 00-<32 hex trace id>-… at the same place in both.
  return own.slice(3, 35) === batchTrace.slice(3, 35) ? batchTrace : own
}
