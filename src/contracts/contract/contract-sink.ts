import type { Batch } from '../../core/batch.ts'
import type { Sink, SinkContext, SinkWriter } from '../../core/sink.ts'
import type { Contract } from './define.ts'
import { keepValid, violationError } from './violation-error.ts'

/**
 * A sink whose records are checked against a contract before the write: a record that breaks it goes to the
 * pipeline's error path (`ctx.reject`) with the field path, the rule, the subject and the version, and the
 * others are written. The inner sink is opened with the contract in its context (`ctx.contract`), so it may
 * take its columns from the contract's schema.
 */
export function contractSink<T>(inner: Sink<any>, c: Contract<T>): Sink<T> {
  const wrapped: Sink<T> = {
    kind: inner.kind,
    guarantee: inner.guarantee,
    ...(inner.guaranteeFor !== undefined ? { guaranteeFor: (run) => inner.guaranteeFor!(run) } : {}),
    ...(inner.singleSubtask !== undefined ? { singleSubtask: inner.singleSubtask } : {}),
    ...(inner.appendOnly !== undefined ? { appendOnly: inner.appendOnly } : {}),
    contract: c,
    describe: () => ({ ...inner.describe(), contract: c.describe() }),
    open: async (ctx) => validatingWriter(await inner.open({ ...ctx, contract: c }), c, ctx),
  }
  return wrapped
}

function validatingWriter<T>(inner: SinkWriter<T>, c: Contract<T>, ctx: SinkContext): SinkWriter<T> {
  const validator = c.validator()
  const reject = (batch: Batch<T>, i: number, error: unknown): void => {
    if (ctx.reject === undefined) throw error
    ctx.reject(batch as Batch, i, error)
  }
  // Only `write` changes: every other method is the inner writer's own, so the runtime sees what it offers.
  const w = {} as SinkWriter<T>
  for (const k of ['close', 'bytesWritten', 'retries', 'preCommit', 'commit', 'recover', 'onCheckpointComplete'] as const) {
    const f = inner[k] as ((...a: unknown[]) => unknown) | undefined
    if (f !== undefined) (w as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => f.apply(inner, a)
  }
  w.write = (batch) => {
    const kept = keepValid(batch, validator, (i, v) => reject(batch, i, violationError(c as Contract<unknown>, v, ctx.stepId, batch.pos?.[i])))
    return kept.values.length === 0 ? undefined : inner.write(kept)
  }
  return w
}
