import { pipeline, type Pipeline } from '../../src/index.ts'
import { nexmark, type NexmarkConfig } from '../../src/connectors/nexmark/index.ts'
import type { Sink } from '../../src/index.ts'
import { queries } from './queries.ts'
import type { NexmarkQuery } from './query.ts'
import { resultSink } from './results.ts'

/** The pipeline of one query over `events` generated events, into `sink`. */
export function nexmarkPipeline<R extends object>(query: NexmarkQuery<R>, events: number, config: Partial<NexmarkConfig>, sink: Sink<R>, batchSize?: number): Pipeline {
  const p = pipeline(`nexmark-${query.name}`, batchSize === undefined ? {} : { batchSize })
  query.build(p.from(nexmark({ events, ...config }))).to(sink)
  return p
}

/** Parameters by which worker threads rebuild the same pipeline in parallel runs. */
export function pipelineParams(query: string, events: number, config: Partial<NexmarkConfig>, batchSize?: number): Record<string, string> {
  return { query, events: String(events), config: JSON.stringify(config), ...(batchSize === undefined ? {} : { batchSize: String(batchSize) }) }
}

/** For worker threads: the pipeline named by `pipelineParams` (its sink stays unused there). */
export default function build({ params }: { params: Record<string, string> }): Pipeline {
  const q = queries[params.query]
  if (q === undefined) throw new Error(`unknown Nexmark query '${params.query}'`)
  return nexmarkPipeline(q, Number(params.events), JSON.parse(params.config ?? '{}') as Partial<NexmarkConfig>, resultSink(), params.batchSize === undefined ? undefined : Number(params.batchSize))
}
