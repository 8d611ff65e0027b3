// Makes the example's source table and starts it over: cdc_orders (REPLICA IDENTITY FULL, so updates and
// deletes carry the row before) loaded from data/orders.csv; the target table, the slot and the publication of
// an earlier run are dropped.
//   DATABASE_URL=postgres://sluice@127.0.0.1:55432/sluice node examples/postgres-cdc/setup.ts
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

export const SLOT = 'cdc_example'

/** Runs the setup on `url`; `teardown` only drops what the example made. */
export async function setup(url: string, { teardown = false } = {}): Promise<void> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [SLOT])
    await c.query(`DROP PUBLICATION IF EXISTS ${SLOT}`)
    await c.query('DROP TABLE IF EXISTS cdc_orders, cdc_customer_totals')
    if (teardown) return
    await c.query('CREATE TABLE cdc_orders (id BIGINT PRIMARY KEY, customer TEXT NOT NULL, amount BIGINT NOT NULL)')
    await c.query('ALTER TABLE cdc_orders REPLICA IDENTITY FULL')
    const rows = readFileSync(new URL('data/orders.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
    await c.query(`INSERT INTO cdc_orders (id, customer, amount) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])`, [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])])
  } finally {
    await c.end()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await setup(process.env.DATABASE_URL ?? 'postgres://sluice@127.0.0.1:55432/sluice', { teardown: process.argv[2] === '--teardown' })
