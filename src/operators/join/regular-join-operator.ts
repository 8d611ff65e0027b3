import type { Batch } from '../../core/batch.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'
import type { JoinType } from './join-types.ts'

export interface RegularJoinSpec {
  ttl: number
  type: JoinType
  fn: (left: unknown, right: unknown) => unknown
}

/** TODO(join helper): regular join. */
export class RegularJoinOperator implements Operator {
  constructor(_spec: RegularJoinSpec, _ctx: OperatorContext) {}
  process(_batch: Batch, _out: Output, _input: number): void {
    throw new Error('regular join not implemented yet')
  }
}
