import type { StateRow } from '../../core/operator.ts'
import type { Source, SourceOptions } from '../../core/source.ts'
import { collection } from '../memory/collection-source.ts'
import { readState, type ReadStateOptions } from './read-state.ts'

/**
 * A bounded source of the state of one keyed step in a savepoint or checkpoint: a row `{ key, value }` per key
 * (see readState), read when the job starts.
 *
 * @experimental
 * @example pipeline('audit').from(source.state('savepoints/v1', { step: 'totals' })).filter((r) => Number(r.value) > 100).to(sink.jsonl('big.jsonl'))
 */
export function stateSource(dir: string, options: ReadStateOptions & SourceOptions<StateRow>): Source<StateRow> {
  const { step, cwd, ...sourceOptions } = options
  return {
    kind: 'state',
    bounded: true,
    options: sourceOptions,
    describe: () => ({ kind: 'state', dir, step }),
    async open(ctx) {
      const rows = await readState(dir, { step, ...(cwd !== undefined ? { cwd } : {}) })
      return collection(rows, sourceOptions).open(ctx)
    },
  }
}
