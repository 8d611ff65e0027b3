// Page views per minute from a Kafka topic to a Kafka topic, exactly once.
//   npx sluice run examples/kafka-page-views/pipeline.ts --param brokers=localhost:9092 \
//     --checkpoint-dir out/page-views --checkpoint-interval 5s
// Reads JSON clicks from topic `clicks` (params.input), counts the views of each page per minute of event
// time, and writes one record per page and minute to topic `page-views` (params.output), keyed by page.
// With checkpoints the output is committed in Kafka transactions: readers with read_committed see each
// count once, whatever crashes and restarts happen. params.bounded=true reads what the topic holds, then ends.
import { agg, pipeline, sink, source, watermark, window, type PipelineFactory } from 'sluice'

export interface Click {
  user: string
  page: string
  kind: 'view' | 'click'
  ts: number
}

export interface PageViews {
  page: string
  minute: string
  views: number
}

export default (({ params }) => {
  const brokers = params.brokers ?? 'localhost:9092'
  const p = pipeline('kafka-page-views')
  p.from(
    source.kafka<Click>({
      brokers,
      topics: params.input ?? 'clicks',
      group: params.group ?? 'page-views',
      stopAtEnd: params.bounded === 'true',
      eventTime: (c) => c.ts,
      watermark: watermark.boundedOutOfOrder('10s'),
      // A partition without clicks for a minute does not hold the windows of the others back.
      idleTimeout: '1m',
    }),
  )
    .filter((c) => c.kind === 'view')
    .keyBy((c) => c.page)
    .window(window.tumbling({ size: '1m' }))
    .aggregate(agg.count())
    .map((r): PageViews => ({ page: r.key, minute: new Date(r.start).toISOString(), views: r.value }))
    .to(sink.kafka<PageViews>({ brokers, topic: params.output ?? 'page-views', key: (r) => r.page }))
  return p
}) satisfies PipelineFactory
