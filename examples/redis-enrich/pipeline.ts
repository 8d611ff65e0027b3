// Orders enriched with their customer's country from Redis, revenue per country in a Redis sorted set.
//   REDIS_URL=redis://127.0.0.1:6379 npx sluice run examples/redis-enrich/pipeline.ts
// Reads data/orders.jsonl and the hashes customer:<id>; writes the sorted set revenue_by_country.
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agg, lookup, pipeline, sink, source } from 'sluice'

export interface Order {
  orderId: string
  customer: string
  amount: number
  ts: number
}

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:56379'

const p = pipeline('redis-enrich')
p.from(source.jsonl<Order>(here('data/orders.jsonl'), { eventTime: (o) => o.ts }))
  .lookup(lookup.redis({ url, type: 'hash', prefix: 'customer:' }), {
    key: (o) => o.customer,
    into: (o, c) => ({ ...o, country: (c as { country?: string } | undefined)?.country ?? 'unknown' }),
    cache: { ttl: '5m', max: 10_000 },
  })
  .keyBy((o) => o.country)
  .aggregate(agg.sum((o: Order) => o.amount))
  .to(sink.redis({ url, type: 'zset', key: () => 'revenue_by_country', member: (t) => String(t.key), score: (t) => t.value }))

export default p
