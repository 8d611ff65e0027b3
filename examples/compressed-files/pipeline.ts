// Compressed inputs read as they are, never unpacked to disk: page views per page and hour from gzip JSONL
// files, and revenue per country and hour from a zstd CSV file.
//   npx sluice run examples/compressed-files/pipeline.ts
// Reads data/views-*.jsonl.gz and data/orders.csv.zst (made by make-data.ts); writes out/views.jsonl and
// out/revenue.jsonl.
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agg, pipeline, sink, source, window } from 'sluice'

interface View {
  page: string
  user: string
  ts: number
}

interface Order {
  id: string
  country: string
  cents: number
  ts: number
}

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))
const hour = (ms: number) => new Date(ms).toISOString().slice(0, 13) + ':00Z'

const p = pipeline('compressed-files')

// The extension says how a file is compressed (.gz, .zst); a glob makes each file a partition.
p.from(source.jsonl<View>(here('data/views-*.jsonl.gz'), { eventTime: (v) => v.ts }))
  .keyBy((v) => v.page)
  .window(window.tumbling({ size: '1h' }))
  .count()
  .map((w) => ({ page: w.key, hour: hour(w.start), views: w.value }))
  .to(sink.jsonl(here('out/views.jsonl')))

p.from(source.csv<Order>(here('data/orders.csv.zst'), { types: { cents: 'number', ts: 'number' }, eventTime: (o) => o.ts }))
  .keyBy((o) => o.country)
  .window(window.tumbling({ size: '1h' }))
  .aggregate(agg.sum((o: Order) => o.cents))
  .map((w) => ({ country: w.key, hour: hour(w.start), cents: w.value }))
  .to(sink.jsonl(here('out/revenue.jsonl')))

export default p
