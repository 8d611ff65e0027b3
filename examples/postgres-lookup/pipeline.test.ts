// Runs the example as its README says and checks every order against its customer in data/customers.csv.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { serviceOrSkip } from '../../test/support/services.ts'
import { DISCOUNT, type Order } from './pipeline.ts'
import { setup } from './setup.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const pgSvc = serviceOrSkip('postgres')

test('postgres-lookup: each order with its customer\'s country, tier and discounted price; unknown customers marked', { skip: pgSvc.skip }, async () => {
  const url = String(pgSvc.info!.url)
  await setup(url)
  rmSync(out, { recursive: true, force: true })
  const r = spawnSync(process.execPath, ['bin/sluice.js', 'run', 'examples/postgres-lookup/pipeline.ts', '--quiet'], { cwd: root, encoding: 'utf8', timeout: 180_000, env: { ...process.env, DATABASE_URL: url } })
  assert.equal(r.status, 0, r.stderr)
  const customers = new Map(readFileSync(new URL('data/customers.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).map(([id, , country, tier]) => [id, { country, tier: tier as keyof typeof DISCOUNT }]))
  const orders = readFileSync(new URL('data/orders.jsonl', import.meta.url), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Order)
  const want = orders.map((o) => {
    const c = customers.get(o.customer)
    const tier = c?.tier ?? 'basic'
    return { ...o, country: c?.country ?? 'unknown', tier, price: Math.round(o.amount * (1 - DISCOUNT[tier]) * 100) / 100 }
  })
  const got = readFileSync(`${out}orders.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)
  // Batches leave the lookup in input order (ordered, the default).
  assert.deepEqual(got, want)
  assert.equal(want.filter((o) => o.country === 'unknown').length, 4)
  rmSync(out, { recursive: true, force: true })
})
