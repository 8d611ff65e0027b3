// Orders joined with their customers, revenue per country kept up to date in a DuckDB table.
//   npx sluice run examples/join-to-duckdb/pipeline.ts
// Reads data/orders.jsonl and data/customers.jsonl; writes the table revenue_by_country in out/shop.duckdb.
import { mkdirSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agg, pipeline, sink, source } from 'sluice'

export interface Order {
  orderId: string
  customer: string
  amount: number
  ts: number
}

export interface Customer {
  id: string
  name: string
  country: string
  ts: number
}

// Files beside this module, named relative to the current folder.
const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))

// sink.duckdb opens the database file but does not create its folder.
mkdirSync(here('out'), { recursive: true })

const p = pipeline('join-to-duckdb')
const orders = p.from(source.jsonl<Order>(here('data/orders.jsonl'), { eventTime: (o) => o.ts })).keyBy((o) => o.customer)
const customers = p.from(source.jsonl<Customer>(here('data/customers.jsonl'), { eventTime: (c) => c.ts })).keyBy((c) => c.id)

// A left join: an order whose customer is not known (yet) comes out with null, and is retracted (-D)
// when its customer arrives. Both sides are kept for a day after their key's last record.
const sales = orders
  .join(customers, { ttl: '1d', type: 'left' }, (o, c) => ({ country: c === null ? 'unknown' : c.country, amount: o.amount }))
  .id('orders-with-customers')

// A continuously updated table: +I for a new country, -U/+U each time its revenue changes, and the
// retractions of the join subtracted again.
sales
  .keyBy((s) => s.country)
  .aggregate(agg.fields({ orders: agg.count(), revenue: agg.sum((s: { amount: number }) => s.amount) }))
  .id('revenue')
  .map((r) => ({ country: r.key, orders: r.value.orders, revenue: Math.round(r.value.revenue * 100) / 100 }))
  // Upserts by country: the table holds one row per country, whatever the number of updates.
  .to(sink.duckdb(here('out/shop.duckdb'), 'revenue_by_country', { key: (r) => r.country, columns: { country: 'string', orders: 'int64', revenue: 'double' } }))

export default p
