// Views per page in one hour: reads out/in/<partition>.jsonl, checks the views' quality, writes the counts to
// out/agg/<partition>.jsonl and the quality results to out/quality/<partition>.jsonl.
// The workflow runs it once per hourly partition; by hand:
//   npx sluice run examples/workflow-hourly/pipeline.ts --param partition=2026-01-01T00
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, pipeline, sink, source, window, type QualityResult } from 'sluice'
import type { View } from './make-data.ts'

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))

export default ({ params }: { params: Record<string, string> }) => {
  const hour = params.partition ?? '2026-01-01T00'
  const p = pipeline(`page-views-${hour}`)
  // A view without a page, or with a page that is not a path, fails the run. A view without a user, or an hour
  // without views, is noted as a failed 'warn' result, which the workflow's `check` task holds the hour back for.
  const views = p
    .from(source.jsonl<View>(here(`out/in/${hour}.jsonl`), { eventTime: (v) => v.ts }))
    .expect([expect.notNull('page', 'fail'), expect.pattern('page', '^/', 'fail'), expect.notNull('userId'), expect.rowCount({ min: 1 })])
    .id('view-quality')
  views.sideOutput<QualityResult>('quality').to(sink.jsonl(here(`out/quality/${hour}.jsonl`)))
  views
    .keyBy((v) => v.page)
    .window(window.tumbling({ size: '1h' }))
    .count()
    .map((w) => ({ hour: new Date(w.start).toISOString().slice(0, 13), page: w.key, views: w.value }))
    .to(sink.jsonl(here(`out/agg/${hour}.jsonl`)))
  return p
}
