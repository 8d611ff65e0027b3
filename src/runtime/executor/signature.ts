import type { PhysicalPlan } from '../../plan/physical-plan.ts'

/** A fingerprint of the plan's shape, to check that a worker rebuilt the same graph as thread 0. */
export function planSignature(plan: PhysicalPlan): string {
  return [
    plan.pipeline,
    ...plan.vertices.map((v) => `${v.id}:${v.role}:${v.keyed ? 'k' : ''}:${v.steps.map((s) => s.id).join(',')}<${v.inputs.map((i) => `${i.from}/${i.tag ?? ''}/${i.key ? 'k' : ''}`).join(',')}`),
  ].join('|')
}
