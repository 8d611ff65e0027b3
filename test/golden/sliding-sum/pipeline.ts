import type { PipelineFactory } from 'sluice'
import { agg, pipeline, sink, source, watermark, window } from 'sluice'

// Sum of v per key in 10 s windows sliding by 5 s: each record lands in two windows.
const build: PipelineFactory = ({ params }) =>
  pipeline('golden-sliding-sum')
    .from(source.jsonl<{ k: string; ts: number; v: number }>(params.input, { eventTime: (e) => e.ts, watermark: watermark.monotonic() }))
    .keyBy((e) => e.k)
    .window(window.sliding({ size: '10s', slide: '5s' }))
    .aggregate(agg.sum((e: { v: number }) => e.v))
    .to(sink.jsonl(params.output))
export default build
