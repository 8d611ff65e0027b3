import type { Batch } from '../../core/batch.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'

export interface IntervalJoinSpec {
  lower: number
  upper: number
  type: 'inner' | 'left'
  fn: (left: unknown, right: unknown) => unknown
}

/** TODO(join helper): interval join. */
export class IntervalJoinOperator implements Operator {
  constructor(_spec: IntervalJoinSpec, _ctx: OperatorContext) {}
  process(_batch: Batch, _out: Output, _input: number): void {
    throw new Error('interval join not implemented yet')
  }
}
