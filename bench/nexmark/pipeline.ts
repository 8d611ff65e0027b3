import { pipeline, type CombineOption, type Pipeline, type PipelineOptions } from '../../src/index.ts'
import { nexmark, type NexmarkConfig } from '../../src/connectors/nexmark/index.ts'
import type { Sink } from '../../src/index.ts'
import { queries } from './queries.ts'
import type { NexmarkQuery } from './query.ts'
import { resultSink } from './results.ts'

/**
 * The pipeline of one query over `events` generated events, into `sink`. The source has `partitions` partitions
 * (the same events whatever their number), so that at parallelism p each subtask generates its own share.
 */
export function nexmarkPipeline<R extends object>(query: NexmarkQuery<R>, events: number, config: Partial<NexmarkConfig>, sink: Sink<R>, batchSize?: number, partitions = 1, combine?: CombineOption): Pipeline {
  const options: PipelineOptions = {}
  if (batchSize !== undefined) options.batchSize = batchSize
  if (combine !== undefined) options.combine = combine
  const p = pipeline(`nexmark-${query.name}`, options)
  query.build(p.from(nexmark({ events, partitions, ...config }))).to(sink)
  return p
}

/** Parameters by which worker threads rebuild the same pipeline in parallel runs. */
export function pipelineParams(query: string, events: number, config: Partial<NexmarkConfig>, batchSize: number | undefined, partitions: number, combine?: CombineOption): Record<string, string> {
  return {
    query,
    events: String(events),
    config: JSON.stringify(config),
    partitions: String(partitions),
    ...(batchSize === undefined ? {} : { batchSize: String(batchSize) }),
    ...(combine === undefined ? {} : { combine: String(combine) }),
  }
}

/** For worker threads: the pipeline named by `pipelineParams` (its sink stays unused there). */
export default function build({ params }: { params: Record<string, string> }): Pipeline {
  const q = queries[params.query]
  if (q === undefined) throw new Error(`unknown Nexmark query '${params.query}'`)
  const batchSize = params.batchSize === undefined ? undefined : Number(params.batchSize)
  return nexmarkPipeline(q, Number(params.events), JSON.parse(params.config ?? '{}') as Partial<NexmarkConfig>, resultSink(), batchSize, Number(params.partitions ?? '1'), combineOption(params.combine))
}

/** `--combine true|false|auto` (and its worker parameter): the pipeline's combine option; undefined for the default. */
export function combineOption(s: string | undefined): CombineOption | undefined {
  if (s === undefined) return undefined
  if (s === 'true' || s === 'false') return s === 'true'
  if (s === 'auto') return s
  throw new Error(`--combine must be true, false or auto, got '${s}'`)
}
