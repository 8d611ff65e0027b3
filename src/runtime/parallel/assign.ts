import type { PhysicalPlan } from '../../plan/physical-plan.ts'

/** Where a vertex runs: on the main thread (the hub) or as one subtask on every worker. */
export type Placement = 'main' | 'parallel'

/**
 * Places the vertices of a plan. A keyed vertex runs as N subtasks; a chain or operator whose inputs all come
 * from parallel vertices over non-keyed edges runs with them (forward: subtask i feeds subtask i). Sources,
 * the errors vertex, sinks and everything else run on the main thread, so sinks see one gathered stream.
 */
export function placeVertices(plan: PhysicalPlan): Placement[] {
  const out: Placement[] = []
  for (const v of plan.vertices) {
    let parallel = false
    if (v.keyed) {
      parallel = v.inputs.length > 0 && v.inputs.every((i) => i.key !== undefined)
    } else if ((v.role === 'chain' || v.role === 'operator') && v.inputs.length > 0) {
      parallel = v.inputs.every((i) => i.key === undefined && out[i.from] === 'parallel')
    }
    out.push(parallel ? 'parallel' : 'main')
  }
  return out
}

/** A fingerprint of the plan's shape, to check that a worker rebuilt the same graph as the main thread. */
export function planSignature(plan: PhysicalPlan): string {
  return [
    plan.pipeline,
    ...plan.vertices.map((v) => `${v.id}:${v.role}:${v.keyed ? 'k' : ''}:${v.steps.map((s) => s.id).join(',')}<${v.inputs.map((i) => `${i.from}/${i.tag ?? ''}/${i.key ? 'k' : ''}`).join(',')}`),
  ].join('|')
}
