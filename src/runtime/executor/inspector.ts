import type { LetterWriter } from '../../dlq/letter-writer.ts'
import type { WindowInspection } from '../../operators/window/window-operator.ts'
import type { JobInspector } from '../job/types.ts'
import type { SubtaskExecutor } from './executor.ts'

type Inspectable = { inspect(key: string, time: number): WindowInspection }

/**
 * The control plane's read-only view of a running job: thread 0's vertices and sources, and the job's open
 * dead-letter log. Nothing here changes the job; every figure is read at the moment of the call.
 * @example control.inspector = jobInspector(executor, deadLetters)
 */
export function jobInspector(executor: SubtaskExecutor, deadLetters: LetterWriter | undefined): JobInspector {
  const vertices = () => executor.graph.vertices.filter((v) => v !== undefined)
  return {
    deadLetters: () => (deadLetters?.openLog !== undefined ? { log: deadLetters.openLog, topic: deadLetters.topic } : undefined),
    lateSamples: () => vertices().filter((v) => v.lateSamples.seen > 0).map((v) => ({ step: v.plan.id, seen: v.lateSamples.seen, samples: v.lateSamples.samples() })),
    sources: () => executor.runners.map((r) => ({ step: r.vertex.plan.id, partitions: r.partitionStates() })),
    watermarks: () =>
      vertices().map((v) => ({
        step: v.plan.id,
        steps: v.plan.steps.map((s) => s.id),
        watermark: v.watermark,
        inputs: v.plan.inputs.map((x, i) => ({ from: executor.graph.vertices[x.from]?.plan.id ?? String(x.from), watermark: v.inWm[i] ?? -Infinity, idle: v.inIdle[i] ?? false })),
      })),
    window: (step, key, time) => {
      const v = vertices().find((x) => x.plan.steps.some((s) => s.id === step))
      const op = v?.operator as Partial<Inspectable> | undefined
      return typeof op?.inspect === 'function' ? op.inspect(key, time) : undefined
    },
  }
}
