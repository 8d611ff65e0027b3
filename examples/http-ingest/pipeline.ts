// Events posted over HTTP as NDJSON, each stored in the embedded log before the client gets its 200, tagged and
// written to a JSONL file.
//   INGEST_PORT=8080 INGEST_TOKEN=dev-token npx sluice run examples/http-ingest/pipeline.ts --checkpoint-dir examples/http-ingest/out/chk
// Listens on 127.0.0.1:$INGEST_PORT/events; keeps what it accepted in out/log; writes out/events.jsonl.
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pipeline, sink, source } from 'sluice'

export interface Reading {
  id: number
  device: string
  value: number
  ts: number
}

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))

const p = pipeline('http-ingest')
p.from(
  source.http<Reading>({
    port: Number(process.env.INGEST_PORT ?? 8080),
    path: '/events',
    auth: { token: process.env.INGEST_TOKEN ?? 'dev-token' },
    logDir: here('out/log'),
    onListen: (port) => console.log(`listening on http://127.0.0.1:${port}/events`),
    eventTime: (r) => r.ts,
  }),
)
  .map((r) => ({ ...r, level: r.value > 80 ? 'high' : 'normal' }))
  .to(sink.jsonl(here('out/events.jsonl')))

export default p
