// Views per page in one hour: reads out/in/<partition>.jsonl, writes out/agg/<partition>.jsonl.
// The workflow runs it once per hourly partition; by hand:
//   npx sluice run examples/workflow-hourly/pipeline.ts --param partition=2026-01-01T00
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pipeline, sink, source, window } from 'sluice'
import type { View } from './make-data.ts'

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))

export default ({ params }: { params: Record<string, string> }) => {
  const hour = params.partition ?? '2026-01-01T00'
  const p = pipeline(`page-views-${hour}`)
  p.from(source.jsonl<View>(here(`out/in/${hour}.jsonl`), { eventTime: (v) => v.ts }))
    .keyBy((v) => v.page)
    .window(window.tumbling({ size: '1h' }))
    .count()
    .map((w) => ({ hour: new Date(w.start).toISOString().slice(0, 13), page: w.key, views: w.value }))
    .to(sink.jsonl(here(`out/agg/${hour}.jsonl`)))
  return p
}
