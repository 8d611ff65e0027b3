// Loads the customers into Redis, runs the example as its README says, and checks the sorted set against the
// revenue per country computed from the files.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { serviceOrSkip } from '../../test/support/services.ts'
import type { Order } from './pipeline.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const svc = serviceOrSkip('redis')
const readJsonl = <T>(name: string): T[] => readFileSync(new URL(name, import.meta.url), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T)

test('redis-enrich: revenue per country in a sorted set', { skip: svc.skip }, async () => {
  const url = String(svc.info!.url)
  const r = new Redis(url)
  try {
    const customers = readJsonl<{ id: string; country: string }>('data/customers.jsonl')
    for (const c of customers) await r.hset(`customer:${c.id}`, { country: c.country })
    await r.del('revenue_by_country')
    const res = spawnSync(process.execPath, ['bin/sluice.js', 'run', 'examples/redis-enrich/pipeline.ts', '--quiet'], { cwd: root, encoding: 'utf8', timeout: 180_000, env: { ...process.env, REDIS_URL: url } })
    assert.equal(res.status, 0, res.stderr)
    const country = new Map(customers.map((c) => [c.id, c.country]))
    const want = new Map<string, number>()
    for (const o of readJsonl<Order>('data/orders.jsonl')) want.set(country.get(o.customer)!, (want.get(country.get(o.customer)!) ?? 0) + o.amount)
    const got = await r.zrange('revenue_by_country', '0', '-1', 'WITHSCORES')
    const m = new Map<string, number>()
    for (let i = 0; i < got.length; i += 2) m.set(got[i], Number(got[i + 1]))
    assert.deepEqual([...m].sort(), [...want].sort())
  } finally {
    await r.quit()
  }
})
