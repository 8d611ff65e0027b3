import { randomBytes } from 'node:crypto'

/** One finished span, as the job tracer records it. Times in epoch ms. */
export interface SpanData {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  startMs: number
  endMs: number
  attributes: Record<string, string | number | boolean>
  /** An error status with its (scrubbed) description; ok otherwise. */
  error?: string
}

export const newTraceId = (): string => randomBytes(16).toString('hex')
export const newSpanId = (): string => randomBytes(8).toString('hex')

function attribute(key: string, v: string | number | boolean) {
  if (typeof v === 'string') return { key, value: { stringValue: v } }
  if (typeof v === 'boolean') return { key, value: { boolValue: v } }
  return Number.isInteger(v) ? { key, value: { intValue: String(v) } } : { key, value: { doubleValue: v } }
}

const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString()

/**
 * Spans in the OTLP/HTTP JSON encoding (`ExportTraceServiceRequest`), under one resource whose service is
 * `sluice` and one instrumentation scope.
 * @example await fetch(`${endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(otlpRequest('orders', spans)) })
 */
export function otlpRequest(pipeline: string, spans: SpanData[]): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attribute('service.name', 'sluice'), attribute('sluice.pipeline', pipeline)] },
        scopeSpans: [
          {
            scope: { name: 'sluice' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId !== undefined ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: 1,
              startTimeUnixNano: nanos(s.startMs),
              endTimeUnixNano: nanos(s.endMs),
              attributes: Object.entries(s.attributes).map(([k, v]) => attribute(k, v)),
              status: s.error !== undefined ? { code: 2, message: s.error } : { code: 1 },
            })),
          },
        ],
      },
    ],
  }
}
