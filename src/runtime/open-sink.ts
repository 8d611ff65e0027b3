import { SluiceError, errorMessage } from '../core/errors.ts'
import type { SinkContext, SinkWriter } from '../core/sink.ts'
import type { StepNode } from '../plan/graph.ts'

/** Opens a sink step; a failure (a folder that cannot be created, a locked file) names the step. */
export async function openSink(step: StepNode, ctx: SinkContext): Promise<SinkWriter<unknown>> {
  if (step.impl.role !== 'sink') throw new SluiceError('SLUICE_INTERNAL', `step '${step.id}' is not a sink`, { domain: 'internal' })
  try {
    return await step.impl.sink.open(ctx)
  } catch (e) {
    if (e instanceof SluiceError) throw e
    throw new SluiceError('SLUICE_SINK_OPEN_FAILED', `sink '${step.id}' (${step.impl.sink.kind}) could not open: ${errorMessage(e)}`, { domain: 'external', step: step.id, cause: e })
  }
}
