// Sessionization of a clickstream: per user, clicks separated by less than 15 minutes form a session.
//   npx sluice run examples/sessionization/pipeline.ts
// Reads data/clicks.jsonl (81 clicks of 8 users, slightly out of order); writes out/sessions.jsonl.
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agg, pipeline, sink, source, watermark, window } from 'sluice'

export interface Click {
  user: string
  page: string
  /** Event time, epoch milliseconds. */
  ts: number
}

/** The silence that ends a session. */
export const gapMs = 15 * 60_000

// Files beside this module, named relative to the current folder.
const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))

const p = pipeline('sessionization')

p.from(source.jsonl<Click>(here('data/clicks.jsonl'), { eventTime: (c) => c.ts, watermark: watermark.boundedOutOfOrder('10m') }))
  .keyBy((c) => c.user)
  // A click opens [ts, ts + gap); windows of one user that touch merge into one session.
  .window(window.session({ gap: gapMs }))
  .aggregate(agg.fields({ clicks: agg.count(), pages: agg.countDistinct((c: Click) => c.page) }))
  .map((s) => ({
    user: s.key,
    start: new Date(s.start).toISOString(),
    // The session window ends a gap after its last click.
    lastClick: new Date(s.end - gapMs).toISOString(),
    minutes: Math.round((s.end - gapMs - s.start) / 6000) / 10,
    ...s.value,
  }))
  .to(sink.jsonl(here('out/sessions.jsonl')))

export default p
