import type { Pipeline } from '../api/pipeline.ts'
import { Stream } from '../api/stream.ts'
import { userError } from '../core/errors.ts'
import { runLocal } from './local-runner.ts'
import type { RunOptions, RunSummary } from './run-types.ts'

/**
 * Runs a pipeline to completion (bounded sources) or until `signal` aborts.
 * @example const summary = await run(myPipeline)
 */
export async function run(p: Pipeline | Stream<unknown>, opts: RunOptions = {}): Promise<RunSummary> {
  const pl = p instanceof Stream ? p.pipeline : p
  const parallelism = opts.parallelism ?? 1
  if (!Number.isInteger(parallelism) || parallelism < 1) throw userError('SLUICE_BAD_OPTION', `parallelism must be a positive integer, got ${parallelism}`)
  if (parallelism === 1) return runLocal(pl, opts)
  const { runParallel } = await import('./parallel/parallel-runner.ts')
  return runParallel(pl, { ...opts, parallelism })
}
