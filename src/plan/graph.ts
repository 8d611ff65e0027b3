import type { Operator, OperatorContext } from '../core/operator.ts'
import type { Sink } from '../core/sink.ts'
import type { Source } from '../core/source.ts'

/** A stateless step, fused with its neighbours into one loop at run time. */
export type Link =
  | { op: 'map'; fn: (value: any) => unknown }
  | { op: 'filter'; fn: (value: any) => boolean }
  | { op: 'flatMap'; fn: (value: any) => Iterable<unknown> }

export type StepImpl =
  | { role: 'source'; source: Source<any> }
  | { role: 'errors' }
  | { role: 'stateless'; link: Link }
  | { role: 'operator'; keyed: boolean; build: (ctx: OperatorContext) => Operator }
  | { role: 'sink'; sink: Sink<any> }

/** An input of a step: which step it reads, from which side output, and, into keyed steps, by which key. */
export interface Edge {
  from: StepNode
  /** Side output of `from` to read; absent for the main output. */
  tag?: string
  /** Present on edges into keyed steps: records are routed by this key. */
  key?: (value: any) => unknown
}

/**
 * One step of the logical graph. `describe` is plain serialisable data (what the dashboard and lineage show);
 * `impl` is how it runs.
 */
export interface StepNode {
  id: string
  /** True once the user named the step with `.id()`. */
  explicitId: boolean
  kind: string
  inputs: Edge[]
  describe: Record<string, unknown>
  impl: StepImpl
  /** Side outputs this step may emit (late records, errors, user tags). */
  sideOutputs: string[]
  /** The functions that make the step's output fields, for column lineage (aggregates and joins). */
  columns?: StepColumns
}

/**
 * How a step's output is made, for column lineage: an aggregate's `add` (its result is the `value` field,
 * the key the `key` field), a join's function of the left and right records, or a process function.
 */
export type StepColumns =
  | { kind: 'aggregate'; create: () => unknown; add: (acc: any, value: any) => unknown }
  | { kind: 'join'; fn: (left: any, right: any) => unknown }
  /** An opaque function object (a process function): lineage only from what it declares. */
  | { kind: 'opaque'; fn: object }

/** A pipeline's logical graph: its name and its steps in the order they were added (what `Pipeline` holds). */
export interface LogicalGraph {
  readonly name: string
  readonly nodes: readonly StepNode[]
}
