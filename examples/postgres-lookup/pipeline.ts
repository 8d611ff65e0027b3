// Orders enriched with their customer's country and tier from a Postgres table, looked up asynchronously with a
// cache; each order's price after the tier's discount.
//   DATABASE_URL=postgres://user@host/db npx sluice run examples/postgres-lookup/pipeline.ts
// Reads data/orders.jsonl and the table lookup_customers (made by setup.ts); writes out/orders.jsonl.
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { lookup, pipeline, sink, source } from 'sluice'

export interface Order {
  orderId: string
  customer: string
  amount: number
  ts: number
}

export interface Customer {
  name: string
  country: string
  tier: 'gold' | 'silver' | 'basic'
}

export const DISCOUNT = { gold: 0.2, silver: 0.1, basic: 0 }

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))
const url = process.env.DATABASE_URL ?? 'postgres://sluice@127.0.0.1:55432/sluice'

const p = pipeline('postgres-lookup')
p.from(source.jsonl<Order>(here('data/orders.jsonl'), { eventTime: (o) => o.ts }))
  // One query per distinct customer of a batch, at most 8 in flight; answers kept 5 minutes.
  .lookup(lookup.postgres({ url, query: 'SELECT name, country, tier FROM lookup_customers WHERE id = $1' }), {
    key: (o) => o.customer,
    into: (o, c) => {
      const customer = c as Customer | undefined
      const tier = customer?.tier ?? 'basic'
      return { ...o, country: customer?.country ?? 'unknown', tier, price: Math.round(o.amount * (1 - DISCOUNT[tier]) * 100) / 100 }
    },
    concurrency: 8,
    timeout: '2s',
    retries: 2,
    cache: { ttl: '5m', max: 10_000 },
  })
  .to(sink.jsonl(here('out/orders.jsonl')))

export default p
