import type { Batch } from '../../core/batch.ts'
import type { TaskGraph } from '../task-graph.ts'
import type { Vertex } from '../vertex.ts'

/** The part of a vertex that its producers call: what a stand-in for a vertex in another thread implements. */
export interface RemoteInput {
  push(batch: Batch, input: number): void
  inputWatermark(input: number, wm: number): void
  inputIdle(input: number): void
}

export interface RemoteEdge {
  from: number
  to: number
  input: number
  tag: string | undefined
  key: ((value: any) => unknown) | undefined
}

/**
 * Rewires the edges of `graph` for which `isRemote` holds: the local consumer (if the graph wired one) is
 * replaced by a stand-in made by `make`. Stand-ins receive batches without keys; on keyed edges they compute
 * the keys and route by them.
 */
export function connectRemote(graph: TaskGraph, isRemote: (e: RemoteEdge) => boolean, make: (e: RemoteEdge) => RemoteInput): void {
  for (const v of graph.vertices) {
    if (v === undefined) continue
    for (const c of graph.plan.consumers[v.plan.index]) {
      const e: RemoteEdge = { from: v.plan.index, to: c.to, input: c.input, tag: c.tag, key: c.key }
      if (!isRemote(e)) continue
      const local = graph.vertices[c.to]
      if (local !== undefined) {
        const i = v.consumers.findIndex((x) => x.vertex === local && x.input === c.input && x.tag === c.tag)
        if (i >= 0) v.consumers.splice(i, 1)
      }
      const stub = Object.assign(make(e), { plan: graph.plan.vertices[c.to] })
      v.consumers.push({ vertex: stub as unknown as Vertex, input: c.input, tag: c.tag, key: undefined })
    }
  }
}

/** A batch without its keys (they are recomputed where an edge needs them). */
export function withoutKeys(batch: Batch): Batch {
  if (batch.keys === undefined) return batch
  const { keys: _keys, ...rest } = batch
  return rest
}
