// The quickstart: sessions per user and views per page per minute, in event time.
//   npx sluice run examples/quickstart/pipeline.ts
// Reads clicks.jsonl (made by make-data.ts) and writes out/sessions.jsonl, out/page-counts.jsonl,
// out/late.jsonl (events too late for their window) and out/errors.jsonl (malformed lines).
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agg, pipeline, sink, source, watermark, window } from 'sluice'
import type { LateRecord } from 'sluice'

interface Click {
  userId: string
  page: string
  kind: 'view' | 'click'
  /** Event time, epoch milliseconds. */
  ts: number
  referrer?: string
}

// Files beside this module, named relative to the current folder (as error positions show them).
const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))
const iso = (ms: number) => new Date(ms).toISOString()

// Malformed lines and records without a timestamp go to the errors stream instead of stopping the job.
// Small batches make the watermark advance every 10 records, so each event is judged late or on time
// almost exactly as it arrives (the default, 1024 records, favours throughput).
const p = pipeline('quickstart', { onError: 'error-output', batchSize: 10 })

const clicks = p.from(
  source.jsonl<Click>(here('clicks.jsonl'), {
    eventTime: (c) => c.ts,
    // Events may arrive up to 5 s out of order.
    watermark: watermark.boundedOutOfOrder('5s'),
  }),
)

// A session ends after 5 minutes without activity. An event up to 30 s behind the watermark still updates
// its session (the earlier result is retracted with -U and replaced with +U); later ones go to 'late'.
const sessions = clicks
  .keyBy((c) => c.userId)
  .window(window.session({ gap: '5m' }), { allowedLateness: '30s' })
  .aggregate(agg.fields({ events: agg.count(), clicks: agg.sum((c: Click) => (c.kind === 'click' ? 1 : 0)), pages: agg.countDistinct((c: Click) => c.page) }))
  .id('sessions')
sessions
  .map((s) => ({ userId: s.key, start: iso(s.start), end: iso(s.end), ...s.value }))
  .to(sink.jsonl(here('out/sessions.jsonl')))

// Page views per page and minute.
const pageCounts = clicks
  .filter((c) => c.kind === 'view')
  .keyBy((c) => c.page)
  .window(window.tumbling({ size: '1m' }))
  .count()
  .id('page-counts')
pageCounts.map((w) => ({ page: w.key, minute: iso(w.start), views: w.value })).to(sink.jsonl(here('out/page-counts.jsonl')))

// Late events of both windows, with the step that refused them.
sessions
  .sideOutput<LateRecord<Click>>('late')
  .union(pageCounts.sideOutput<LateRecord<Click>>('late'))
  .map((l) => ({ step: l.step, ts: iso(l.time), watermark: iso(l.watermark), userId: l.record.userId, page: l.record.page }))
  .to(sink.jsonl(here('out/late.jsonl')))

p.errors()
  .map((e) => ({ step: e.step, position: e.position, error: e.error }))
  .to(sink.jsonl(here('out/errors.jsonl')))

export default p
