import type { Batch } from '../../core/batch.ts'
import type { PlanVertex } from '../../plan/physical-plan.ts'
import type { TaskGraph } from '../task-graph.ts'
import type { Vertex } from '../vertex.ts'
import type { VertexInputs } from './inputs.ts'
import type { Layout } from './layout.ts'
import { partitionByKey } from '../../core/partition-by-key.ts'
import type { Item } from './protocol.ts'
import { stamp } from '../ingestion.ts'
import type { PausedDelivery } from './paused-delivery.ts'

/** Where a thread's outlets deliver: its own subtasks' inputs, or another thread. */
export interface Delivery {
  thread: number
  local(vertex: number): VertexInputs
  send(thread: number, item: Item): void
  /** While a step is paused, deliveries are queued behind it (see paused-delivery.ts). */
  pause?: Pick<PausedDelivery, 'paused' | 'defer'>
}

/**
 * One edge leaving a subtask, as its producer sees it (it stands where Vertex keeps a consumer): records,
 * watermarks and idleness go to the consumer's subtask(s) in this thread or another, by the edge's kind.
 * Barriers and ends of input go to every subtask the edge reaches, so each one counts this channel.
 */
export class Outlet {
  readonly plan: PlanVertex
  private readonly to: number
  private readonly input: number
  private readonly kind: 'forward' | 'keyed' | 'gather'
  private readonly key: ((v: unknown) => unknown) | undefined
  private readonly graph: TaskGraph
  private readonly d: Delivery
  private readonly threads: number

  constructor(graph: TaskGraph, layout: Layout, to: number, input: number, key: ((v: unknown) => unknown) | undefined, d: Delivery) {
    this.graph = graph
    this.plan = graph.plan.vertices[to]
    this.to = to
    this.input = input
    this.kind = layout.inputs[to][input].kind
    this.key = key
    this.d = d
    this.threads = layout.threads
  }

  /** The subtasks (threads) this edge reaches from this thread. */
  private targets(): number[] {
    if (this.kind === 'forward') return [this.d.thread]
    if (this.kind === 'gather') return [0]
    return Array.from({ length: this.threads }, (_, i) => i)
  }

  /** Hands something to the consumer's subtask on this thread, or queues it while a step is paused. */
  private here(f: (x: VertexInputs) => void): void {
    const p = this.d.pause
    if (p !== undefined && p.paused) p.defer(() => f(this.d.local(this.to)))
    else f(this.d.local(this.to))
  }

  /** Sends an item to another thread, or queues it while a step is paused (items keep their order). */
  private there(t: number, item: Item): void {
    const p = this.d.pause
    if (p !== undefined && p.paused) p.defer(() => this.d.send(t, item))
    else this.d.send(t, item)
  }

  private signal(make: (ch: number) => Item, local: (inputs: VertexInputs, ch: number) => void): void {
    const ch = this.kind === 'forward' ? 0 : this.d.thread
    for (const t of this.targets()) {
      if (t === this.d.thread) this.here((x) => local(x, ch))
      else this.there(t, make(ch))
    }
  }

  push(batch: Batch): void {
    const { input, d } = this
    if (this.kind === 'forward') {
      const b = this.key === undefined ? batch : this.graph.withKeys(batch, this.key, this.plan.id)
      this.here((x) => x.data(input, 0, b))
      return
    }
    const ch = d.thread
    // A batch that leaves the thread takes its ingestion time with it.
    stamp(batch)
    if (this.kind === 'gather') {
      if (d.thread === 0) this.here((x) => x.data(input, ch, batch))
      else this.there(0, { t: 'data', v: this.to, input, ch, batch: withoutKeys(batch) })
      return
    }
    const keyed = this.graph.withKeys(batch, this.key!, this.plan.id)
    if (this.threads === 1) {
      this.here((x) => x.data(input, ch, keyed))
      return
    }
    const parts = partitionByKey(keyed, this.threads)
    for (let t = 0; t < parts.length; t++) {
      const part = parts[t]
      if (part === undefined) continue
      part.ingestedAt = batch.ingestedAt
      if (batch.trace !== undefined) part.trace = batch.trace
      if (t === d.thread) this.here((x) => x.data(input, ch, part))
      else this.there(t, { t: 'data', v: this.to, input, ch, batch: part })
    }
  }

  inputWatermark(_input: number, wm: number): void {
    const { to, input } = this
    this.signal((ch) => ({ t: 'wm', v: to, input, ch, wm }), (x, ch) => x.watermark(input, ch, wm))
  }

  inputIdle(_input: number): void {
    const { to, input } = this
    this.signal((ch) => ({ t: 'idle', v: to, input, ch }), (x, ch) => x.idle(input, ch))
  }

  barrier(id: number): void {
    const { to, input } = this
    this.signal((ch) => ({ t: 'barrier', v: to, input, ch, id }), (x, ch) => x.barrier(input, ch))
  }

  eof(): void {
    const { to, input } = this
    this.signal((ch) => ({ t: 'eof', v: to, input, ch }), (x, ch) => x.eof(input, ch))
  }
}

/** A batch without its keys (a gathered edge does not need them). */
function withoutKeys(batch: Batch): Batch {
  if (batch.keys === undefined) return batch
  const { keys: _keys, ...rest } = batch
  return rest
}

/** Replaces the consumers the graph wired with outlets; returns each local vertex's outlets. */
export function wireOutlets(graph: TaskGraph, layout: Layout, d: Delivery): Outlet[][] {
  const out: Outlet[][] = graph.plan.vertices.map(() => [])
  for (const v of graph.vertices) {
    if (v === undefined) continue
    v.consumers.length = 0
    for (const c of graph.plan.consumers[v.plan.index]) {
      const o = new Outlet(graph, layout, c.to, c.input, c.key, d)
      out[v.plan.index].push(o)
      v.consumers.push({ vertex: o as unknown as Vertex, input: c.input, tag: c.tag, key: undefined })
    }
  }
  return out
}
