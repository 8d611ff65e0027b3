import type { PhysicalPlan, PlanVertex } from '../../plan/physical-plan.ts'

/**
 * How a vertex is spread over the threads of a run: `all` runs one subtask on every thread (subtask k on
 * thread k), `single` runs one subtask on thread 0 (sinks that must see one stream: an in-memory collector,
 * ordered stdout, one writer per database file).
 */
export type Spread = 'all' | 'single'

/**
 * How records cross an edge: `forward` stays in the thread (subtask k feeds subtask k), `keyed` goes to the
 * subtask owning the record's key group, `gather` goes to the one subtask of a `single` vertex.
 */
export type EdgeKind = 'forward' | 'keyed' | 'gather'

/** Sinks that run as one subtask whatever the parallelism, unless the sink says otherwise. */
const SINGLE_SINK_KINDS = new Set(['sink-collect', 'sink-console', 'sink-duckdb', 'sink-log'])

export interface Layout {
  threads: number
  spread: Spread[]
  /** Per vertex and input: the kind of the edge into it and how many upstream subtasks feed one subtask of it. */
  inputs: { kind: EdgeKind; channels: number }[][]
  /** Per vertex: does it run on `thread`? */
  runsOn(vertex: number, thread: number): boolean
  /** Subtasks of a vertex. */
  subtasks(vertex: number): number
}

export function spreadOf(v: PlanVertex, _checkpointing: boolean): Spread {
  const step = v.steps[0]
  if (step.impl.role !== 'sink') return 'all'
  const declared = step.impl.sink.singleSubtask
  if (declared !== undefined) return declared ? 'single' : 'all'
  return SINGLE_SINK_KINDS.has(step.kind) ? 'single' : 'all'
}

/** Lays a plan out over `threads` threads. */
export function layOut(plan: PhysicalPlan, threads: number, checkpointing: boolean, given?: Spread[]): Layout {
  // Workers take thread 0's spread: a sink built from the module in a worker may not know what thread 0's does.
  const spread = given ?? plan.vertices.map((v) => spreadOf(v, checkpointing))
  const inputs = plan.vertices.map((v) =>
    v.inputs.map((inp) => {
      const upAll = spread[inp.from] === 'all'
      if (spread[v.index] === 'single') return { kind: 'gather' as const, channels: upAll ? threads : 1 }
      if (inp.key !== undefined) return { kind: 'keyed' as const, channels: upAll ? threads : 1 }
      return { kind: 'forward' as const, channels: 1 }
    }),
  )
  return {
    threads,
    spread,
    inputs,
    runsOn: (vertex, thread) => spread[vertex] === 'all' || thread === 0,
    subtasks: (vertex) => (spread[vertex] === 'all' ? threads : 1),
  }
}
