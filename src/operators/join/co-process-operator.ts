import type { OperatorContext } from '../../core/operator.ts'
import { UserFunctionOperator } from '../process/keyed-process-operator.ts'
import type { KeyedCoProcessFunction } from './join-types.ts'

/**
 * Runs a user's keyed co-process function: `processElement1` for input 0, `processElement2` for input 1,
 * with keyed state and timers shared by both inputs (Flink's KeyedCoProcessOperator).
 */
export class CoProcessOperator extends UserFunctionOperator<unknown> {
  constructor(fn: KeyedCoProcessFunction<unknown, unknown, unknown, unknown>, ctx: OperatorContext) {
    super(fn, [fn.processElement1, fn.processElement2], fn.onTimer, ctx)
  }
}
