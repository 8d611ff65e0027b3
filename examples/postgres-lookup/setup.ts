// Loads data/customers.csv into the table lookup_customers (replacing it), the reference data the pipeline
// looks up.
//   DATABASE_URL=postgres://sluice@127.0.0.1:55432/sluice node examples/postgres-lookup/setup.ts
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

export async function setup(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query('DROP TABLE IF EXISTS lookup_customers')
    await c.query('CREATE TABLE lookup_customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL, tier TEXT NOT NULL)')
    const rows = readFileSync(new URL('data/customers.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
    await c.query('INSERT INTO lookup_customers SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])', [0, 1, 2, 3].map((i) => rows.map((r) => r[i])))
  } finally {
    await c.end()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await setup(process.env.DATABASE_URL ?? 'postgres://sluice@127.0.0.1:55432/sluice')
