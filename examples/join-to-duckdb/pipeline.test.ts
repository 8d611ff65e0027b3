// Runs the example as its README says and checks the DuckDB table against the revenue computed from the
// input files directly.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import type { Customer, Order } from './pipeline.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const readJsonl = <T>(name: string): T[] => readFileSync(new URL(name, import.meta.url), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T)

function expectedRevenue(): { country: string; orders: number; revenue: number }[] {
  const country = new Map(readJsonl<Customer>('data/customers.jsonl').map((c) => [c.id, c.country]))
  const rows = new Map<string, { orders: number; revenue: number }>()
  for (const o of readJsonl<Order>('data/orders.jsonl')) {
    const c = country.get(o.customer) ?? 'unknown'
    const row = rows.get(c) ?? { orders: 0, revenue: 0 }
    row.orders++
    row.revenue += o.amount
    rows.set(c, row)
  }
  return [...rows].map(([c, r]) => ({ country: c, orders: r.orders, revenue: Math.round(r.revenue * 100) / 100 })).sort((a, b) => a.country.localeCompare(b.country))
}

test('join-to-duckdb: one row per country with its orders and revenue, retractions of the left join applied', async () => {
  rmSync(out, { recursive: true, force: true })
  const r = spawnSync(process.execPath, ['bin/sluice.js', 'run', 'examples/join-to-duckdb/pipeline.ts', '--quiet'], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, r.stderr)
  const db = await DuckDBInstance.create(`${out}shop.duckdb`)
  const c = await db.connect()
  try {
    const rows = (await c.runAndReadAll('SELECT country, orders::INT AS orders, revenue FROM revenue_by_country ORDER BY country')).getRowObjectsJson()
    const expected = expectedRevenue()
    assert.equal(expected.length, 6)
    assert.deepEqual(rows, expected)
  } finally {
    c.closeSync()
    db.closeSync()
  }
})
