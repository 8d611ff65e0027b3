// Events archived to object storage as Parquet, exactly once, with the checkpoints in the same bucket.
//   SLUICE_S3_ENDPOINT=http://127.0.0.1:59000 AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
//     npx sluice run examples/s3-archive/pipeline.ts --checkpoint-dir s3://sluice/s3-archive/checkpoints
// Reads data/events.jsonl; writes s3://sluice/s3-archive/events/part-<subtask>-<n>.parquet.
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pipeline, sink, source } from 'sluice'

export interface Event {
  id: number
  user: string
  kind: string
  ts: number
}

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))
const bucket = process.env.S3_BUCKET ?? 'sluice'

const p = pipeline('s3-archive')
p.from(source.jsonl<Event>(here('data/events.jsonl'), { eventTime: (e) => e.ts }))
  .filter((e) => e.kind !== 'view')
  .to(sink.s3({ bucket, prefix: 's3-archive/events', format: 'parquet', schema: { id: 'int64', user: 'string', kind: 'string', ts: 'timestamp' } }))

export default p
