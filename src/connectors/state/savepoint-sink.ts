import { SluiceError } from '../../core/errors.ts'
import type { StateRow } from '../../core/operator.ts'
import type { Sink } from '../../core/sink.ts'
import { writeSavepoint, type WriteSavepointOptions } from './write-savepoint.ts'

/**
 * Writes the rows a bounded job produces as the state of one keyed step of another pipeline, in a new
 * savepoint that job then restores from: bootstrap state from historical data (see writeSavepoint). The
 * savepoint is written once the input has ended, all at once: a job that fails leaves none.
 *
 * @experimental
 * @example
 * pipeline('bootstrap')
 *   .from(source.jsonl('history/totals.jsonl'))
 *   .map((r) => ({ key: r.region, value: r.total }))
 *   .to(sink.savepoint({ pipeline: totals, step: 'totals', dir: 'savepoints/bootstrap' }))
 */
export function savepointSink(options: WriteSavepointOptions): Sink<StateRow> {
  return {
    kind: 'savepoint',
    guarantee: 'exactly-once',
    singleSubtask: true,
    describe: () => ({ kind: 'savepoint', dir: options.dir, pipeline: options.pipeline.name, step: options.step }),
    open(ctx) {
      if (ctx.checkpointing === true) {
        throw new SluiceError('SLUICE_STATE_BOOTSTRAP', `sink '${ctx.stepId}': a savepoint is written by a bounded job that runs without checkpoints`, { step: ctx.stepId, hint: 'run the bootstrap job without --checkpoint-dir' })
      }
      const rows: StateRow[] = []
      return {
        write(batch) {
          for (const v of batch.values) rows.push(v)
        },
        async close() {
          await writeSavepoint(rows, options)
        },
      }
    },
  }
}
