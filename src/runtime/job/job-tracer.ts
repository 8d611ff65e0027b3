import type { JobEvent, JobHandle } from './types.ts'
import { scrubMessage } from '../../core/scrub.ts'
import { newSpanId, newTraceId, otlpRequest, type SpanData } from '../../observe/trace/otlp.ts'

export interface JobTracerOptions {
  /** OTLP/HTTP endpoint, e.g. `http://127.0.0.1:4318`; spans are posted to `<endpoint>/v1/traces`. */
  endpoint: string
  /** Epoch ms; default Date.now. */
  now?: () => number
  /** Called when an export fails (the job goes on); default: nothing. */
  onExportError?: (e: unknown) => void
}

/**
 * Traces a job to an OpenTelemetry collector over OTLP/HTTP (JSON): a `job` span from start to end, and under
 * it a span per checkpoint or savepoint (its alignment, sync and async times and size as attributes; failed
 * ones with an error status), per restore and per stop. Spans are exported as checkpoints complete and when
 * the job ends. Attributes name steps, ids and sizes, never record contents.
 * @example
 * const tracer = traceJob(job, { endpoint: 'http://127.0.0.1:4318' })
 * await job.done; await tracer.flush()
 */
export function traceJob(job: JobHandle, opts: JobTracerOptions): { traceId: string; flush(): Promise<void> } {
  const now = opts.now ?? Date.now
  const traceId = newTraceId()
  const root = { spanId: newSpanId(), start: now() }
  let pending: SpanData[] = []
  let exporting: Promise<void> = Promise.resolve()
  const child = (name: string, startMs: number, endMs: number, attributes: SpanData['attributes'], error?: string): SpanData => ({
    traceId,
    spanId: newSpanId(),
    parentSpanId: root.spanId,
    name,
    startMs,
    endMs,
    attributes: { 'sluice.pipeline': job.pipeline, ...attributes },
    ...(error !== undefined ? { error } : {}),
  })
  const flush = (): Promise<void> => {
    const spans = pending
    pending = []
    if (spans.length === 0) return exporting
    exporting = exporting.then(() => post(opts.endpoint, job.pipeline, spans)).catch((e: unknown) => opts.onExportError?.(e))
    return exporting
  }
  let ended = false
  const onEvent = (e: JobEvent) => {
    const t = now()
    switch (e.type) {
      case 'checkpoint-completed': {
        const s = e.stats
        const duration = s.alignmentMs + s.syncMs + s.asyncMs
        pending.push(child(e.savepoint !== undefined ? 'savepoint' : 'checkpoint', t - duration, t, { 'sluice.checkpoint.id': s.id, 'sluice.checkpoint.bytes': s.bytes, 'sluice.checkpoint.alignment_ms': s.alignmentMs, 'sluice.checkpoint.sync_ms': s.syncMs, 'sluice.checkpoint.async_ms': s.asyncMs, 'sluice.checkpoint.incremental': s.delta === true }))
        void flush()
        return
      }
      case 'checkpoint-failed':
        pending.push(child('checkpoint', t, t, { 'sluice.checkpoint.id': e.id }, scrubMessage(e.error)))
        return
      case 'restored':
        pending.push(child('restore', t, t, { 'sluice.checkpoint.id': e.id }))
        return
      case 'stop':
        pending.push(child('stop', t, t, { 'sluice.stop.reason': e.reason }))
        return
      case 'error':
        pending.push(child('error', t, t, { 'sluice.error.code': e.error.code }, e.error.code.startsWith('SLUICE_') ? e.error.message : scrubMessage(e.error.message)))
        return
      case 'status':
        if (!ended && (e.status === 'finished' || e.status === 'stopped' || e.status === 'failed' || e.status === 'cancelled')) {
          ended = true
          pending.push({ traceId, spanId: root.spanId, name: 'job', startMs: root.start, endMs: t, attributes: { 'sluice.pipeline': job.pipeline, 'sluice.job.status': e.status }, ...(e.status === 'failed' ? { error: 'the job failed' } : {}) })
          void flush()
        }
    }
  }
  const unsubscribe = job.on(onEvent)
  void job.done.catch(() => {}).finally(unsubscribe)
  return { traceId, flush: async () => { await flush() } }
}

async function post(endpoint: string, pipeline: string, spans: SpanData[]): Promise<void> {
  const res = await fetch(`${endpoint.replace(/\/$/, '')}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(otlpRequest(pipeline, spans)),
    signal: AbortSignal.timeout(10_000),
  })
  await res.arrayBuffer()
  if (!res.ok) throw new Error(`OTLP endpoint answered ${res.status}`)
}
