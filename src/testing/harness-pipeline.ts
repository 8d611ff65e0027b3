import { join } from 'node:path'
import { Pipeline } from '../api/pipeline.ts'
import { Stream } from '../api/stream.ts'
import type { Sink } from '../core/sink.ts'
import type { Source } from '../core/source.ts'
import type { ErrorRecord } from '../core/operator.ts'
import type { StepNode } from '../plan/graph.ts'
import { withContract } from '../contracts/contract/with-contract.ts'
import type { Contract } from '../contracts/contract/define.ts'

/** What a harness puts in place of a pipeline's sources and sinks. */
export interface Substitutes {
  /** The test input for source step `node` (its id names the input). */
  source(node: StepNode, original: Source<unknown>): Source<unknown>
  /** The recorder for sink step `node` (its id names the sink). */
  sink(node: StepNode, original: Sink<unknown>): Sink<unknown>
  /** Under `onError: 'error-output'`: where the errors stream's records are recorded too. */
  errors: Sink<ErrorRecord>
}

/**
 * The pipeline a harness runs: a copy of `p` (which stays as it is, so it can run again) in which every source
 * is a test input and every sink a recorder, each keeping its data contract, and whose dead letters and durable
 * state live in the harness's folder `dir`. It registers no contracts and emits no lineage of its own.
 */
export function harnessPipeline(p: Pipeline, dir: string, subs: Substitutes): Pipeline {
  const q = new Pipeline(p.name)
  const { registry: _registry, lineage: _lineage, ...options } = p.options
  if (options.onError === 'dead-letter') {
    const { kafka: _kafka, ...dl } = options.deadLetter ?? {}
    options.deadLetter = { ...dl, dir: join(dir, 'dead-letters') }
  }
  if (options.state?.dir !== undefined) options.state = { ...options.state, dir: join(dir, 'state') }
  Object.assign(q, { options })
  const copies = new Map<StepNode, StepNode>()
  for (const n of p.nodes) {
    const impl = n.impl.role === 'source' ? { role: 'source' as const, source: keepContract(subs.source(n, n.impl.source), n.impl.source) } : n.impl.role === 'sink' ? { role: 'sink' as const, sink: keepContract(subs.sink(n, n.impl.sink), n.impl.sink) } : n.impl
    const c: StepNode = { ...n, impl, inputs: n.inputs.map((e) => ({ ...e, from: copies.get(e.from)! })), sideOutputs: [...n.sideOutputs] }
    copies.set(n, c)
    q.nodes.push(c)
  }
  if (options.onError === 'error-output') {
    const errors = q.nodes.find((n) => n.impl.role === 'errors')
    ;(errors !== undefined ? new Stream<ErrorRecord>(q, errors) : q.errors()).to(subs.errors, { id: 'harness-errors' })
  }
  return q
}

function keepContract<S extends Source<unknown> | Sink<unknown>>(replacement: S, original: S): S {
  const c = original.contract as Contract<unknown> | undefined
  return c === undefined ? replacement : (withContract(replacement as Source<unknown>, c) as S)
}
