import { SluiceError } from '../core/errors.ts'
import type { SourceRunner } from '../runtime/source-runner.ts'
import type { TaskGraph } from '../runtime/task-graph.ts'
import type { Manifest } from './manifest.ts'

/**
 * Checks that a checkpoint's state fits the pipeline: every saved operator and source has a step with the same
 * id, kind and configuration. Lists every mismatch; with `allowDropped`, unmatched state is dropped with a warning.
 */
export function checkCompatibility(m: Manifest, graph: TaskGraph, runners: SourceRunner[], allowDropped: boolean, warn: (msg: string) => void): Set<string> {
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
  if (problems.length > 0) {
    throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `the checkpoint does not match pipeline '${m.pipeline}':\n  - ${problems.join('\n  - ')}`, {
      hint: 'restore the pipeline as it was, give steps their old ids with .id(…), or pass --allow-dropped-state to drop the state that does not match',
    })
  }
  for (const d of dropped) warn(`dropping saved state: ${d}`)
  return droppedSteps
}
