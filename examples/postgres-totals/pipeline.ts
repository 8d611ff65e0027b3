// Revenue per customer kept up to date in a Postgres table, upserted by key.
//   DATABASE_URL=postgres://user@host/db npx sluice run examples/postgres-totals/pipeline.ts --checkpoint-dir out/chk
// Reads data/orders.jsonl; writes the table customer_totals (created if missing).
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agg, pipeline, sink, source } from 'sluice'

export interface Order {
  orderId: string
  customer: string
  amount: number
  ts: number
}

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))
const url = process.env.DATABASE_URL ?? 'postgres://sluice@127.0.0.1:55432/sluice'

const p = pipeline('postgres-totals')
p.from(source.jsonl<Order>(here('data/orders.jsonl'), { eventTime: (o) => o.ts }))
  .keyBy((o) => o.customer)
  .aggregate(agg.sum((o: Order) => o.amount))
  .map((t) => ({ customer: t.key, revenue: t.value }))
  .to(sink.postgres({ url, table: 'customer_totals', key: ['customer'] }))

export default p
