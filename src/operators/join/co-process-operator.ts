import type { Batch } from '../../core/batch.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'
import type { KeyedCoProcessFunction } from './join-types.ts'

/** TODO(join helper): keyed co-process. */
export class CoProcessOperator implements Operator {
  constructor(_fn: KeyedCoProcessFunction<unknown, unknown, unknown, unknown>, _ctx: OperatorContext) {}
  process(_batch: Batch, _out: Output, _input: number): void {
    throw new Error('co-process not implemented yet')
  }
}
