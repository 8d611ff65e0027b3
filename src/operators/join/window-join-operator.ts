import type { Batch } from '../../core/batch.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'
import type { WindowAssigner } from '../window/assigners.ts'
import type { JoinType } from './join-types.ts'

export interface WindowJoinSpec {
  assigner: WindowAssigner
  type: JoinType
  fn: (left: unknown, right: unknown) => unknown
}

/** TODO(join helper): window join. Input 0 = left, 1 = right; batches carry `keys`. */
export class WindowJoinOperator implements Operator {
  constructor(_spec: WindowJoinSpec, _ctx: OperatorContext) {}
  process(_batch: Batch, _out: Output, _input: number): void {
    throw new Error('window join not implemented yet')
  }
}
