import { userError } from '../core/errors.ts'
import type { Edge, Link, LogicalGraph, StepNode } from './graph.ts'

/** A vertex of the physical plan: one step, or a chain of fused stateless steps. */
export interface PlanVertex {
  index: number
  /** Id of the vertex: the id of its first step. */
  id: string
  role: 'source' | 'errors' | 'chain' | 'operator' | 'sink'
  steps: StepNode[]
  inputs: PlanInput[]
  /** True for steps that need their input partitioned by key. */
  keyed: boolean
}

export interface PlanInput {
  from: number
  tag: string | undefined
  key: ((value: any) => unknown) | undefined
}

export interface PhysicalPlan {
  pipeline: string
  vertices: PlanVertex[]
  /** Vertex index -> consumers, by tag ('' for the main output). */
  consumers: { to: number; input: number; tag: string | undefined; key: PlanInput['key'] }[][]
}

const eventTimeKinds = new Set(['window-aggregate', 'window-join', 'interval-join'])

/** Checks the logical graph, fuses stateless chains and returns the vertices in topological order. */
export function buildPlan(p: LogicalGraph): PhysicalPlan {
  const nodes = p.nodes
  if (!nodes.some((n) => n.impl.role === 'source')) {
    throw userError('SLUICE_EMPTY_PIPELINE', `pipeline '${p.name}' has no source`, { hint: "start it with pipeline(name).from(source.…)" })
  }
  if (!nodes.some((n) => n.impl.role === 'sink')) {
    throw userError('SLUICE_NO_SINK', `pipeline '${p.name}' has no sink, so it would compute nothing visible`, { hint: 'end a stream with .to(sink.console()) or another sink' })
  }
  const seen = new Map<string, StepNode>()
  for (const n of nodes) {
    if (seen.has(n.id)) throw userError('SLUICE_DUPLICATE_STEP_ID', `pipeline '${p.name}': two steps have the id '${n.id}'`, { hint: 'give each step a unique id with .id(…)' })
    seen.set(n.id, n)
  }
  checkEventTime(p, nodes)

  // How many edges read each node's main output: only a step read by exactly one stateless step fuses with it.
  const readers = new Map<StepNode, Edge[]>()
  for (const n of nodes) for (const e of n.inputs) readers.set(e.from, [...(readers.get(e.from) ?? []), e])

  const vertexOf = new Map<StepNode, PlanVertex>()
  const vertices: PlanVertex[] = []
  for (const n of nodes) {
    const impl = n.impl
    if (impl.role === 'stateless') {
      const e = n.inputs[0]
      const up = vertexOf.get(e.from)!
      const upReaders = readers.get(e.from) ?? []
      if (up.role === 'chain' && e.tag === undefined && upReaders.length === 1 && up.steps[up.steps.length - 1] === e.from) {
        up.steps.push(n)
        vertexOf.set(n, up)
        continue
      }
    }
    const v: PlanVertex = {
      index: vertices.length,
      id: n.id,
      role: impl.role === 'stateless' ? 'chain' : impl.role,
      steps: [n],
      inputs: n.inputs.map((e) => ({ from: vertexOf.get(e.from)!.index, tag: e.tag, key: e.key })),
      keyed: impl.role === 'operator' && impl.keyed,
    }
    vertices.push(v)
    vertexOf.set(n, v)
  }
  const consumers: PhysicalPlan['consumers'] = vertices.map(() => [])
  for (const v of vertices) v.inputs.forEach((inp, i) => consumers[inp.from].push({ to: v.index, input: i, tag: inp.tag, key: inp.key }))
  return { pipeline: p.name, vertices, consumers }
}

/** Links of a chain vertex, in order. */
export function chainLinks(v: PlanVertex): { stepId: string; link: Link }[] {
  return v.steps.map((s) => {
    if (s.impl.role !== 'stateless') throw new Error(`internal: step '${s.id}' is not stateless`)
    return { stepId: s.id, link: s.impl.link }
  })
}

function checkEventTime(p: LogicalGraph, nodes: readonly StepNode[]): void {
  const sourcesOf = (n: StepNode, acc: Set<StepNode>): Set<StepNode> => {
    if (n.impl.role === 'source') acc.add(n)
    for (const e of n.inputs) sourcesOf(e.from, acc)
    return acc
  }
  for (const n of nodes) {
    const w = n.describe.window as { time?: string; kind?: string } | undefined
    // Count and global windows close by count or at the end of input, not by the watermark.
    const eventTime = eventTimeKinds.has(n.kind) && (w === undefined || (w.time !== 'processing' && w.kind !== 'count' && w.kind !== 'global'))
    if (!eventTime) continue
    for (const s of sourcesOf(n, new Set())) {
      if (s.impl.role === 'source' && s.impl.source.options.eventTime === undefined) {
        throw userError('SLUICE_NO_EVENT_TIME', `pipeline '${p.name}': step '${n.id}' works in event time, but source '${s.id}' has no eventTime`, {
          step: n.id,
          hint: "give the source an eventTime function (and a watermark strategy), or use a processing-time window: { time: 'processing' }",
        })
      }
    }
  }
}
