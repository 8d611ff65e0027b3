import type { Pipeline } from '../api/pipeline.ts'
import { Stream } from '../api/stream.ts'
import { userError } from '../core/errors.ts'
import { runJob } from './executor/job-runner.ts'
import type { RunOptions, RunSummary } from './run-types.ts'

/**
 * Runs a pipeline to completion (bounded sources) or until `signal` aborts.
 * @example const summary = await run(myPipeline)
 */
export async function run(p: Pipeline | Stream<unknown>, opts: RunOptions = {}): Promise<RunSummary> {
  const pl = p instanceof Stream ? p.pipeline : p
  const parallelism = opts.parallelism ?? 1
  if (!Number.isInteger(parallelism) || parallelism < 1) throw userError('SLUICE_BAD_OPTION', `parallelism must be a positive integer, got ${parallelism}`)
  return runJob(pl, { ...opts, parallelism })
}
