import type { LateRecord, PipelineFactory } from 'sluice'
import { pipeline, sink, source, watermark, window } from 'sluice'

interface Event {
  user: string
  ts: number
}

// Sessions (10 s gap) counted per user, with 5 s of allowed lateness. A record within the lateness
// updates the emitted session (-U/+U), or retracts it (-D) when it changes the session's bounds; a record
// later than that goes to the 'late' side output. Both are written to one file, tagged by `out`.
const build: PipelineFactory = ({ params }) => {
  const sessions = pipeline('golden-session-lateness')
    .from(source.jsonl<Event>(params.input, { eventTime: (e) => e.ts, watermark: watermark.monotonic() }))
    .keyBy((e) => e.user)
    .window(window.session({ gap: '10s' }), { allowedLateness: '5s' })
    .count()
  const late = sessions.sideOutput<LateRecord<Event>>('late').map((l): Record<string, unknown> => ({ out: 'late', key: l.record.user, ts: l.time, watermark: l.watermark }))
  return sessions
    .map((s): Record<string, unknown> => ({ out: 'session', key: s.key, start: s.start, end: s.end, value: s.value }))
    .union(late)
    .to(sink.jsonl(params.output))
}
export default build
