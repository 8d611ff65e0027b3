// A streaming job over a growing file: JSONL in follow mode, with checkpoints, stopped and resumed.
//   cp examples/follow-and-resume/data/events.jsonl examples/follow-and-resume/out/app.log.jsonl   (or let an app append to it)
//   npx sluice run examples/follow-and-resume/pipeline.ts --checkpoint-dir examples/follow-and-resume/out/chk --checkpoint-interval 1s
// Tails out/app.log.jsonl (the source never ends; Ctrl-C stops it) and writes the events that are not
// debug output to out/events (part files committed with each checkpoint). Started again with the same
// --checkpoint-dir, it goes on from where the last checkpoint left it: every event is written once.
import { mkdirSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pipeline, sink, source, watermark } from 'sluice'

export interface LogEvent {
  id: number
  level: 'debug' | 'info' | 'warn' | 'error'
  msg: string
  ts: number
}

// Files beside this module, named relative to the current folder.
const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))
mkdirSync(here('out'), { recursive: true })

const p = pipeline('follow-and-resume')

p.from(source.jsonl<LogEvent>(here('out/app.log.jsonl'), { follow: true, eventTime: (e) => e.ts, watermark: watermark.boundedOutOfOrder('5s') }))
  .filter((e) => e.level !== 'debug')
  .map((e) => ({ id: e.id, level: e.level, msg: e.msg, at: new Date(e.ts).toISOString() }))
  .to(sink.jsonl(here('out/events')))

export default p
