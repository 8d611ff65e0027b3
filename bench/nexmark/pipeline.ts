import { pipeline, type Pipeline } from '../../src/index.ts'
import { nexmark, type NexmarkConfig } from '../../src/connectors/nexmark/index.ts'
import type { Sink } from '../../src/index.ts'
import { queries } from './queries.ts'
import type { NexmarkQuery } from './query.ts'
import { resultSink } from './results.ts'

/**
 * The pipeline of one query over `events` generated events, into `sink`. The source has `partitions` partitions
 * (the same events whatever their number), so that at parallelism p each subtask generates its own share.
 */
export function nexmarkPipeline<R extends object>(query: NexmarkQuery<R>, events: number, config: Partial<NexmarkConfig>, sink: Sink<R>, batchSize?: number, partitions = 1): Pipeline {
  const p = pipeline(`nexmark-${query.name}`, batchSize === undefined ? {} : { batchSize })
  query.build(p.from(nexmark({ events, partitions, ...config }))).to(sink)
  return p
}

/** Parameters by which worker threads rebuild the same pipeline in parallel runs. */
export function pipelineParams(query: string, events: number, config: Partial<NexmarkConfig>, batchSize: number | undefined, partitions: number): Record<string, string> {
  return { query, events: String(events), config: JSON.stringify(config), partitions: String(partitions), ...(batchSize === undefined ? {} : { batchSize: String(batchSize) }) }
}

/** For worker threads: the pipeline named by `pipelineParams` (its sink stays unused there). */
export default function build({ params }: { params: Record<string, string> }): Pipeline {
  const q = queries[params.query]
  if (q === undefined) throw new Error(`unknown Nexmark query '${params.query}'`)
  const batchSize = params.batchSize === undefined ? undefined : Number(params.batchSize)
  return nexmarkPipeline(q, Number(params.events), JSON.parse(params.config ?? '{}') as Partial<NexmarkConfig>, resultSink(), batchSize, Number(params.partitions ?? '1'))
}
