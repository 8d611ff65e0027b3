import { formatTraceparent, parseTraceparent } from './context.ts'
import { newSpanId, newTraceId, otlpRequest, type SpanData } from './otlp.ts'

/**
 * Spans of sampled batches as they pass the steps of a run, exported over OTLP/HTTP.
 * @example run(p, { trace: { endpoint: 'http://127.0.0.1:4318', sampleEveryMs: 1000 } })
 */
export interface StepTraceOptions {
  /** OTLP/HTTP endpoint, e.g. `http://127.0.0.1:4318`; spans are posted to `<endpoint>/v1/traces`. */
  endpoint: string
  /**
   * A source batch that carries no trace context starts a new trace at most once per this many ms per source
   * subtask. Default 1000; 0 starts none (only batches that came with a `traceparent` are traced).
   */
  sampleEveryMs?: number
  /** Spans a thread makes per second at most; traced batches beyond it pass their context on without spans. Default 200. */
  maxSpansPerSecond?: number
}

/** A span being timed; `traceparent` is what the batches it emits carry. */
export interface OpenSpan {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  startMs: number
  traceparent: string
}

/** Finished spans kept for export at most; more are dropped (and counted) while the collector lags. */
const MAX_PENDING = 4096
/** Spans sent in one request. */
const EXPORT_BATCH = 512

const wallMs = (): number => performance.timeOrigin + performance.now()

/**
 * One thread's recorder of step spans: a budget of spans per second bounds what tracing costs, finished spans
 * wait in a bounded buffer and go out about once a second. A collector that fails costs the spans, never the run.
 */
export class SpanRecorder {
  readonly sampleEveryMs: number
  private readonly endpoint: string
  private readonly pipeline: string
  private readonly perSecond: number
  private readonly onExportError: (e: unknown) => void
  private pending: SpanData[] = []
  private exporting: Promise<void> = Promise.resolve()
  private second = 0
  private spent = 0
  private timer: ReturnType<typeof setInterval> | undefined
  /** Spans not made (over budget) or not kept (buffer full). */
  dropped = 0
  /** Spans handed to the exporter. */
  exported = 0

  constructor(pipeline: string, opts: StepTraceOptions, onExportError: (e: unknown) => void = () => {}) {
    this.pipeline = pipeline
    this.endpoint = opts.endpoint.replace(/\/$/, '')
    this.sampleEveryMs = opts.sampleEveryMs ?? 1000
    this.perSecond = opts.maxSpansPerSecond ?? 200
    this.onExportError = onExportError
  }

  /** A span under `parent` (a traceparent; a new trace when undefined), or undefined when the budget is spent or the parent is not sampled. */
  open(parent: string | undefined): OpenSpan | undefined {
    let traceId: string
    let parentSpanId: string | undefined
    if (parent === undefined) {
      traceId = newTraceId()
    } else {
      const c = parseTraceparent(parent)
      if (c === undefined || !c.sampled) return undefined
      traceId = c.traceId
      parentSpanId = c.spanId
    }
    const now = wallMs()
    const second = Math.floor(now / 1000)
    if (second !== this.second) {
      this.second = second
      this.spent = 0
    }
    if (this.spent >= this.perSecond) {
      this.dropped++
      return undefined
    }
    this.spent++
    const spanId = newSpanId()
    return { traceId, spanId, parentSpanId, startMs: now, traceparent: formatTraceparent({ traceId, spanId, sampled: true }) }
  }

  /** Ends a span; attributes name steps and counts, never record contents. */
  end(span: OpenSpan, name: string, attributes: SpanData['attributes'], error?: string): void {
    if (this.pending.length >= MAX_PENDING) {
      this.dropped++
      return
    }
    const s: SpanData = { traceId: span.traceId, spanId: span.spanId, name, startMs: span.startMs, endMs: wallMs(), attributes }
    if (span.parentSpanId !== undefined) s.parentSpanId = span.parentSpanId
    if (error !== undefined) s.error = error
    this.pending.push(s)
    if (this.pending.length >= EXPORT_BATCH) void this.flush()
    else if (this.timer === undefined) {
      this.timer = setInterval(() => void this.flush(), 1000)
      this.timer.unref()
    }
  }

  /** Sends what is pending; resolves once every span handed over so far is sent or given up. */
  flush(): Promise<void> {
    const spans = this.pending
    this.pending = []
    if (spans.length > 0) {
      this.exported += spans.length
      this.exporting = this.exporting.then(() => this.post(spans)).catch((e: unknown) => this.onExportError(e))
    }
    return this.exporting
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  private async post(spans: SpanData[]): Promise<void> {
    const res = await fetch(`${this.endpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(otlpRequest(this.pipeline, spans)),
      signal: AbortSignal.timeout(10_000),
    })
    await res.arrayBuffer()
    if (!res.ok) throw new Error(`OTLP endpoint answered ${res.status}`)
  }
}
