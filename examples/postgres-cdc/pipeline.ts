// Revenue per customer from the changes of a Postgres table, kept up to date in another Postgres table.
//   DATABASE_URL=postgres://user@host/db npx sluice run examples/postgres-cdc/pipeline.ts --checkpoint-dir examples/postgres-cdc/out/chk --checkpoint-interval 1s
// Reads the table cdc_orders (made by setup.ts) through the replication slot cdc_example; writes the table
// cdc_customer_totals (created if missing).
import { agg, pipeline, sink, source } from 'sluice'
import type { CdcChange } from 'sluice'

const url = process.env.DATABASE_URL ?? 'postgres://sluice@127.0.0.1:55432/sluice'

const p = pipeline('postgres-cdc')
// A fresh start reads the table under the slot's snapshot (+I), then streams inserts (+I), updates (-U, +U)
// and deletes (-D) from the slot.
p.from(source.postgresCdc({ url, slot: 'cdc_example', publication: 'cdc_example', tables: ['cdc_orders'] }))
  // The sum takes retractions back: an update's -U subtracts the old amount from the old customer.
  .keyBy((c: CdcChange) => String(c.row.customer))
  .aggregate(agg.sum((c: CdcChange) => Number(c.row.amount)))
  .map((t) => ({ customer: t.key, revenue: t.value }))
  // One row per customer, upserted by key at each checkpoint.
  .to(sink.postgres({ url, table: 'cdc_customer_totals', key: ['customer'], columns: { customer: 'string', revenue: 'int64' } }))

export default p
