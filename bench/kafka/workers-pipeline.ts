// The job of the workers bench: a keyed window count over a Kafka topic, written exactly once to another.
import { agg, pipeline, sink, source, window, type PipelineFactory } from '../../src/index.ts'

export default (({ params }) => {
  const { brokers, input, output } = params
  const p = pipeline('kafka-workers-bench')
  p.from(source.kafka<{ k: string; n: number; ts: number }>({ brokers, topics: input, stopAtEnd: true, eventTime: (e) => e.ts }))
    .keyBy((e) => e.k)
    .window(window.tumbling({ size: 1000 }))
    .aggregate(agg.count())
    .to(sink.kafka({ brokers, topic: output, key: (r) => r.key, transactionalIdPrefix: output }))
  return p
}) satisfies PipelineFactory
