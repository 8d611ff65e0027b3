import type { Batch } from '../../core/batch.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'

/** Merges several streams of one type; the runtime gives it the minimum of its inputs' watermarks. */
export class UnionOperator implements Operator {
  private readonly op: OperatorContext
  constructor(op: OperatorContext) {
    this.op = op
  }
  process(batch: Batch, out: Output): void {
    this.op.metrics.recordsOut += batch.values.length
    const { keys: _keys, ...rest } = batch
    out.emit(rest)
  }
}
