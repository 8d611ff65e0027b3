import type { Batch } from '../core/batch.ts'

/**
 * The trace context (a `traceparent`) of the batch being handled on this thread, if it has one. As with the
 * ingestion time (ingestion.ts), batches flow synchronously, so what a step emits while it handles a traced
 * batch follows that batch's trace: `Vertex.emit` stamps it.
 */
export const tracing: { current: string | undefined } = { current: undefined }

/** Gives a batch the current trace context, if there is one. */
export function stampTrace(batch: Batch): void {
  if (tracing.current !== undefined) batch.trace = tracing.current
}
