import type { LetterWriter } from '../../dlq/letter-writer.ts'
import type { WindowInspection } from '../../operators/window/window-operator.ts'
import { plainCopy } from '../../core/record-errors.ts'
import type { LateSample } from '../late-samples.ts'
import type { JobInspector } from '../job/types.ts'
import type { SubtaskExecutor } from './executor.ts'
import type { ThreadInspection } from './protocol.ts'

type Inspectable = { inspect(key: string, time: number): WindowInspection }

/** Late samples kept per step once every thread's are merged, as one thread keeps. */
const LATE_KEPT = 16

/** What the inspector reads beyond thread 0's executor: the other threads' last reports, and their window views. */
export interface OtherThreads {
  /** What each worker thread showed in its last report (about once a second). */
  reports(): readonly ThreadInspection[]
  /** Every worker thread's view of window step `step` for `key` at `time` (the threads that answered in time). */
  window(step: string, key: string, time: number): Promise<(WindowInspection | undefined)[]>
}

const none: OtherThreads = { reports: () => [], window: async () => [] }

/**
 * The control plane's read-only view of a running job on every thread: thread 0's subtasks read at the call,
 * the other threads' as they last reported (about once a second), merged per step; and the job's open
 * dead-letter log. The window explainer asks every thread and takes the answer of the one that holds the key.
 * Nothing here changes the job.
 * @example control.inspector = jobInspector(executor, deadLetters, others)
 */
export function jobInspector(executor: SubtaskExecutor, deadLetters: LetterWriter | undefined, others: OtherThreads = none): JobInspector {
  const all = () => [threadInspection(executor, false), ...others.reports()]
  return {
    deadLetters: () => (deadLetters?.openLog !== undefined ? { log: deadLetters.openLog, topic: deadLetters.topic } : undefined),
    lateSamples: () => mergeLate(all().flatMap((t) => t.late)),
    sources: () => mergeSources(all().flatMap((t) => t.sources)),
    watermarks: () => mergeWatermarks(all().flatMap((t) => t.watermarks)),
    window: async (step, key, time) => {
      const here = windowView(executor, step, key, time)
      const answers = [here, ...(await others.window(step, key, time))]
      // Only the subtask that owns the key's key group holds its windows; without one, thread 0's view stands.
      return answers.find((a) => a?.keyFound === true) ?? here ?? answers.find((a) => a !== undefined)
    },
  }
}

/** This thread's window step `step`'s view of `key` at `time`; undefined when `step` is not a window step here. */
export function windowView(executor: SubtaskExecutor, step: string, key: string, time: number): WindowInspection | undefined {
  const v = executor.graph.vertices.find((x) => x !== undefined && x.plan.steps.some((s) => s.id === step))
  const op = v?.operator as Partial<Inspectable> | undefined
  return typeof op?.inspect === 'function' ? op.inspect(key, time) : undefined
}

/**
 * What one thread's subtasks show the control plane (its quality results left to the caller). `forPosting`: the
 * sampled records are made data a message can carry (one that cannot be cloned goes as its JSON form), so a
 * report never fails the run.
 */
export function threadInspection(executor: SubtaskExecutor, forPosting: boolean): ThreadInspection {
  const vertices = executor.graph.vertices.filter((v) => v !== undefined)
  return {
    late: vertices
      .filter((v) => v.lateSamples.seen > 0)
      .map((v) => ({ step: v.plan.id, seen: v.lateSamples.seen, samples: forPosting ? v.lateSamples.samples().map(postable) : v.lateSamples.samples() })),
    sources: executor.runners.map((r) => ({ step: r.vertex.plan.id, partitions: r.partitionStates() })),
    watermarks: vertices.map((v) => ({
      step: v.plan.id,
      steps: v.plan.steps.map((s) => s.id),
      watermark: v.watermark,
      inputs: v.plan.inputs.map((x, i) => ({ from: executor.graph.vertices[x.from]?.plan.id ?? String(x.from), watermark: v.inWm[i] ?? -Infinity, idle: v.inIdle[i] ?? false })),
    })),
    quality: [],
  }
}

function postable(s: LateSample): LateSample {
  try {
    return structuredClone(s)
  } catch {
    return { at: s.at, late: plainCopy(s.late) }
  }
}

/** Per step: the late records seen on every thread, and the latest samples of all of them (at most 16). */
export function mergeLate(list: ThreadInspection['late']): ThreadInspection['late'] {
  const by = new Map<string, ThreadInspection['late'][number]>()
  for (const l of list) {
    const m = by.get(l.step)
    if (m === undefined) by.set(l.step, { step: l.step, seen: l.seen, samples: [...l.samples] })
    else {
      m.seen += l.seen
      m.samples.push(...l.samples)
    }
  }
  for (const m of by.values()) m.samples = m.samples.sort((a, b) => a.at - b.at).slice(-LATE_KEPT)
  return [...by.values()]
}

/** Per source step: the partitions every thread reads, in partition order (a partition moved between threads shows once, as last read). */
export function mergeSources(list: ThreadInspection['sources']): ThreadInspection['sources'] {
  const by = new Map<string, Map<number, ThreadInspection['sources'][number]['partitions'][number]>>()
  for (const s of list) {
    let m = by.get(s.step)
    if (m === undefined) by.set(s.step, (m = new Map()))
    for (const p of s.partitions) {
      const had = m.get(p.partition)
      if (had === undefined || p.lastDataAt > had.lastDataAt) m.set(p.partition, p)
    }
  }
  return [...by].map(([step, m]) => ({ step, partitions: [...m.values()].sort((a, b) => a.partition - b.partition) }))
}

/** Per vertex: the lowest watermark of its subtasks, and per input the lowest (idle when idle on every thread). */
export function mergeWatermarks(list: ThreadInspection['watermarks']): ThreadInspection['watermarks'] {
  const by = new Map<string, ThreadInspection['watermarks'][number]>()
  for (const w of list) {
    const m = by.get(w.step)
    if (m === undefined) {
      by.set(w.step, { ...w, inputs: w.inputs.map((i) => ({ ...i })) })
      continue
    }
    m.watermark = Math.min(m.watermark, w.watermark)
    w.inputs.forEach((i, k) => {
      const mi = m.inputs[k]
      if (mi === undefined) return
      mi.watermark = Math.min(mi.watermark, i.watermark)
      mi.idle = mi.idle && i.idle
    })
  }
  return [...by.values()]
}
