import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { outputs, prng, runChild } from '../../checkpoint/crash.ts'
import { serviceOrSkip } from '../../support/services.ts'

// Exactly-once through async lookups: a pipeline enriching records from Redis and from a slow function
// (many lookups in flight) runs as a child process with checkpoints, kills itself with SIGKILL at a random
// lookup (so the kills land between checkpoints, paced by records, whatever the machine's speed), and is
// restarted from its checkpoint folder until it finishes. The output equals an uninterrupted run's.

const child = fileURLToPath(new URL('./fixtures/lookup-crash-child.ts', import.meta.url))
const COUNT = 12_000
const redis = serviceOrSkip('redis')
const url = String(redis.info?.url)
const prefix = `lookup-crash-${process.pid}:`

async function fillPrices(): Promise<void> {
  const r = new Redis(url)
  try {
    const m = r.multi()
    for (let sku = 0; sku < 400; sku++) m.set(prefix + sku, String(100 + sku))
    await m.exec()
  } finally {
    await r.quit()
  }
}

const run = (base: string, parallelism: number, killAt?: number) =>
  runChild(join(base, 'out'), join(base, 'chk'), { child, args: [join(base, 'out'), join(base, 'chk'), url, prefix, String(COUNT), String(parallelism), ...(killAt !== undefined ? [String(killAt)] : [])] })

let reference: Record<string, string[]> | undefined
async function referenceOutput(): Promise<Record<string, string[]>> {
  if (reference !== undefined) return reference
  await fillPrices()
  const base = await mkdtemp(join(tmpdir(), 'sluice-lookup-ref-'))
  try {
    const r = await run(base, 1)
    assert.equal(r.code, 0, r.stderr)
    reference = await outputs(join(base, 'out'), ['rows'])
  } finally {
    await rm(base, { recursive: true, force: true })
  }
  const rows = reference.rows.map((l) => JSON.parse(l) as { n: number; sku: number; price: number; bonus: number })
  assert.equal(new Set(rows.map((o) => o.n)).size, COUNT, 'the reference run wrote every record once')
  assert.ok(rows.every((o) => o.price === 100 + o.sku && o.bonus === (o.n % 500) * 7), 'the reference run looked every record up')
  return reference
}

for (const [seed, parallelism] of [[21, 1], [22, 2]] as const) {
  test(`lookups killed at random moments (seed ${seed}, parallelism ${parallelism}): the output equals an uninterrupted run`, { skip: redis.skip, timeout: 300_000 }, async () => {
    const expected = await referenceOutput()
    const base = await mkdtemp(join(tmpdir(), `sluice-lookup-crash-${seed}-`))
    try {
      const rnd = prng(seed)
      // A kill after 1,000 to 4,000 slow lookups of a run (about one a record, a checkpoint every 2,000
      // records at most): each run first gets past a checkpoint or two, and up to five runs are killed.
      let kills = 0
      for (;;) {
        const killAt = kills < 5 ? 1000 + Math.floor(rnd() * 3000) : undefined
        const r = await run(base, parallelism, killAt)
        if (r.code === 0) break
        assert.equal(r.signal, 'SIGKILL', `the child failed instead of being killed: ${r.stderr}`)
        kills++
      }
      assert.ok(kills >= 1, 'the child was never killed')
      const got = await outputs(join(base, 'out'), ['rows'])
      assert.equal(got.rows.length, expected.rows.length, 'as many rows as an uninterrupted run')
      assert.deepEqual(got, expected)
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
}
