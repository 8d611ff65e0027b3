import type { Batch } from '../core/batch.ts'

/**
 * The ingestion time (processing-time ms) of the batch being handled on this thread, NaN outside one. Batches
 * flow synchronously from a source through operators to sinks and exchanges, so an operator's output needs no
 * stamp of its own: `Vertex.emit` stamps what an operator emits while the batch that caused it is handled. A
 * batch emitted later (a window fired by a watermark, a timer) carries the time of the batch whose arrival
 * released it, or none.
 */
export const ingestion = { at: NaN }

/** Runs `fn` with `at` as the current ingestion time (unchanged when `at` is undefined), restoring it after. */
export function withIngestion<R>(at: number | undefined, fn: () => R): R {
  if (at === undefined) return fn()
  const prev = ingestion.at
  ingestion.at = at
  try {
    return fn()
  } finally {
    ingestion.at = prev
  }
}

/** Gives an unstamped batch the current ingestion time. */
export function stamp(batch: Batch): void {
  if (batch.ingestedAt === undefined && ingestion.at === ingestion.at) batch.ingestedAt = ingestion.at
}
