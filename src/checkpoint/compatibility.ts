import { SluiceError } from '../core/errors.ts'
import type { PhysicalPlan } from '../plan/physical-plan.ts'
import type { Manifest } from './manifest.ts'

/** The manifest's name for the dead-letter writer among the sinks. */
export const DEAD_LETTERS = '$dead-letters'

/**
 * Checks that a checkpoint's state fits the pipeline: every saved operator and source has a step with the same
 * id, kind and configuration, and every sink with pending handles (output not yet committed) a sink step with
 * the same id and kind. Lists every mismatch; with `allowDropped`, unmatched state is dropped with a warning,
 * and its steps are in the returned set (a dropped sink's handles are neither committed nor aborted).
 */
export function checkCompatibility(
  m: Manifest,
  graph: { readonly plan: PhysicalPlan },
  // The pipeline's sources, as their vertices of the plan.
  runners: readonly { readonly vertex: { readonly plan: { readonly id: string } } }[],
  allowDropped: boolean,
  warn: (msg: string) => void,
): Set<string> {
  const steps = new Map(graph.plan.vertices.map((v) => [v.id, v.steps[0]]))
  const problems: string[] = []
  const dropped: string[] = []
  const droppedSteps = new Set<string>()
  for (const op of m.operators) {
    const step = steps.get(op.step)
    if (step === undefined) {
      ;(allowDropped ? dropped : problems).push(`state of step '${op.step}' (${op.kind}) has no step with that id in the pipeline`)
      droppedSteps.add(op.step)
    } else if (step.kind !== op.kind) {
      problems.push(`step '${op.step}' was a ${op.kind} and is now a ${step.kind}`)
    } else if (JSON.stringify(step.describe) !== JSON.stringify(op.descriptor)) {
      ;(allowDropped ? dropped : problems).push(`step '${op.step}' (${op.kind}) changed its configuration: was ${JSON.stringify(op.descriptor)}, is ${JSON.stringify(step.describe)}`)
      droppedSteps.add(op.step)
    }
  }
  for (const s of m.sources) {
    if (!runners.some((r) => r.vertex.plan.id === s.step)) (allowDropped ? dropped : problems).push(`source '${s.step}' (${s.kind}) is not in the pipeline any more`)
  }
  // A sink's pending handles are output not yet committed: a restore hands them to the sink with the same id.
  const sinks = new Map(graph.plan.vertices.filter((v) => v.steps[0].impl.role === 'sink').map((v) => [v.id, v.steps[0].kind]))
  for (const s of m.sinks) {
    if (s.step === DEAD_LETTERS || s.pending.length === 0) continue
    const kind = sinks.get(s.step)
    if (kind === undefined) {
      ;(allowDropped ? dropped : problems).push(`sink '${s.step}'${s.kind !== undefined ? ` (${s.kind})` : ''} has output to commit in the checkpoint and is not in the pipeline any more`)
      droppedSteps.add(s.step)
    } else if (s.kind !== undefined && s.kind !== kind) {
      ;(allowDropped ? dropped : problems).push(`sink '${s.step}' was a ${s.kind} and is now a ${kind}`)
      droppedSteps.add(s.step)
    }
  }
  if (problems.length > 0) {
    throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `the checkpoint does not match pipeline '${m.pipeline}':\n  - ${problems.join('\n  - ')}`, {
      hint: 'restore the pipeline as it was, give steps their old ids with .id(…) or .to(sink, { id }), or pass --allow-dropped-state to drop the state that does not match',
    })
  }
  for (const d of dropped) warn(`dropping saved state: ${d}`)
  return droppedSteps
}
