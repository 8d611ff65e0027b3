import type { PipelineFactory } from 'sluice'
import { pipeline, sink, source, watermark, window } from 'sluice'

// Events per user in 10 s tumbling windows; the watermark trails the highest timestamp by 2 s.
// Record 8 (b at 9.5 s) arrives after its window fired: it is late and not counted.
const build: PipelineFactory = ({ params }) =>
  pipeline('golden-tumbling-count')
    .from(source.jsonl<{ user: string; ts: number }>(params.input, { eventTime: (e) => e.ts, watermark: watermark.boundedOutOfOrder('2s') }))
    .keyBy((e) => e.user)
    .window(window.tumbling({ size: '10s' }))
    .count()
    .to(sink.jsonl(params.output))
export default build
