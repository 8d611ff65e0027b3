import type { BatchBuilder } from '../core/batch.ts'
import type { OperatorContext, Output } from '../core/operator.ts'

/**
 * Emits what an operator buffered: the main output (counted as records out) and, if given, its late output
 * under `lateTag` (counted as late).
 */
export function flushOutputs(ctx: OperatorContext, out: Output, main: BatchBuilder<any>, late?: BatchBuilder<any>, lateTag = 'late'): void {
  if (main.length > 0) {
    const b = main.take()
    ctx.metrics.recordsOut += b.values.length
    out.emit(b)
  }
  if (late !== undefined && late.length > 0) {
    const b = late.take()
    ctx.metrics.late += b.values.length
    out.side(lateTag, b)
  }
}
