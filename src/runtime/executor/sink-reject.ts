import type { Batch } from '../../core/batch.ts'
import type { TaskGraph } from '../task-graph.ts'
import type { Vertex } from '../vertex.ts'

/**
 * What a sink of vertex `v` calls for a record it cannot write: the record takes the pipeline's error path
 * like one a user function failed on. A sink fed by the errors stream cannot send its own failures back
 * into that stream (they would come round again): there they are counted as errors and dropped (or fail
 * the job under `fail`).
 */
export function sinkReject(graph: TaskGraph, v: Vertex, fedByErrors: boolean): (batch: Batch, index: number, error: unknown) => void {
  const step = v.plan.id
  if (fedByErrors) return (_batch, _i, error) => graph.errors.dropUnreportable(step, error)
  return (batch, i, error) => graph.errors.report(step, error, batch.values[i], batch.times[i], batch.pos?.[i])
}
