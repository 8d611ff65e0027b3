// Runs the example as its README says and checks the table against the totals computed from the file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { serviceOrSkip } from '../../test/support/services.ts'
import type { Order } from './pipeline.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const pgSvc = serviceOrSkip('postgres')

test('postgres-totals: one row per customer with its revenue, the same after a second run', { skip: pgSvc.skip }, async () => {
  const url = String(pgSvc.info!.url)
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query('DROP TABLE IF EXISTS customer_totals')
    const want = new Map<string, number>()
    for (const l of readFileSync(new URL('data/orders.jsonl', import.meta.url), 'utf8').trim().split('\n')) {
      const o = JSON.parse(l) as Order
      want.set(o.customer, (want.get(o.customer) ?? 0) + o.amount)
    }
    for (let i = 0; i < 2; i++) {
      rmSync(new URL('out/', import.meta.url), { recursive: true, force: true })
      const r = spawnSync(process.execPath, ['bin/sluice.js', 'run', 'examples/postgres-totals/pipeline.ts', '--quiet', '--checkpoint-dir', 'examples/postgres-totals/out/chk'], { cwd: root, encoding: 'utf8', timeout: 180_000, env: { ...process.env, DATABASE_URL: url } })
      assert.equal(r.status, 0, r.stderr)
      const rows = (await c.query('SELECT customer, revenue::int AS revenue FROM customer_totals ORDER BY customer')).rows
      assert.deepEqual(rows, [...want].sort((a, b) => a[0].localeCompare(b[0])).map(([customer, revenue]) => ({ customer, revenue })))
    }
  } finally {
    await c.end()
    rmSync(new URL('out/', import.meta.url), { recursive: true, force: true })
  }
})
