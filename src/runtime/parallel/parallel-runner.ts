import type { Pipeline } from '../../api/pipeline.ts'
import { userError } from '../../core/errors.ts'
import type { RunOptions, RunSummary } from '../run-types.ts'

export async function runParallel(p: Pipeline, opts: RunOptions & { parallelism: number }): Promise<RunSummary> {
  throw userError('SLUICE_UNSUPPORTED', `pipeline '${p.name}': parallelism ${opts.parallelism} is not available yet`)
}
