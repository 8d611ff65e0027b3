import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { lookup, pipeline, run, sink, source, start, type ErrorRecord } from '../../../src/index.ts'
import { serviceOrSkip } from '../../support/services.ts'
import { sql } from '../postgres/pg-test-support.ts'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

test('lookups per distinct key of a batch, bounded in flight, output in input order', async () => {
  let inFlight = 0
  let most = 0
  const calls: number[] = []
  const fn = async (k: number) => {
    calls.push(k)
    inFlight++
    most = Math.max(most, inFlight)
    await new Promise((r) => setTimeout(r, (k * 7) % 5)) // answers come back out of order
    inFlight--
    return k * 10
  }
  const out = sink.collect<{ n: number; x: number }>()
  const p = pipeline('lookup-order', { batchSize: 50 })
  p.from(source.collection(range(400)))
    .lookup(fn, { key: (n) => n % 40, into: (n, x) => ({ n, x }), concurrency: 4 })
    .to(out)
  assert.equal((await run(p)).status, 'finished')
  assert.deepEqual(out.values.map((v) => v.n), range(400), 'input order')
  assert.ok(out.values.every((v) => v.x === (v.n % 40) * 10))
  assert.ok(most <= 4, `at most 4 in flight, saw ${most}`)
  assert.ok(calls.length >= 40 && calls.length <= (400 / 50) * 40, 'at most one call per distinct key of each batch')
})

test('lookups of the next batch start while the last ones of the batch before still run (slots do not run dry between batches)', async () => {
  // Batches of 10 distinct keys, 4 slots. The last key of the first batch (9) answers only once a lookup of
  // the second batch has started; a step that waited for every lookup in flight before taking the next
  // batch would never start one, and key 9 would answer after 5 s instead.
  let secondStarted!: () => void
  const second = new Promise<void>((r) => (secondStarted = r))
  let overlapped = false
  const fn = async (k: number) => {
    if (k >= 10) secondStarted()
    if (k === 9) {
      const timer = new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())
      overlapped = await Promise.race([second.then(() => true), timer])
    }
    return k
  }
  const out = sink.collect<{ n: number; x: number }>()
  const p = pipeline('lookup-overlap', { batchSize: 10 })
  p.from(source.collection(range(40)))
    .lookup(fn, { key: (n) => n, into: (n, x) => ({ n, x }), concurrency: 4 })
    .to(out)
  assert.equal((await run(p)).status, 'finished')
  assert.ok(overlapped, 'a lookup of the second batch started while key 9 of the first was in flight')
  assert.deepEqual(out.values.map((v) => v.n), range(40), 'input order')
})

test('a cache answers repeated keys; timeouts and failures are retried, then go to the error path', async () => {
  let calls = 0
  const flaky = new Map<number, number>()
  const fn = async (k: number, { signal }: { signal: AbortSignal }) => {
    calls++
    if (k === 3) return new Promise<number>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))) // never answers
    const seen = (flaky.get(k) ?? 0) + 1
    flaky.set(k, seen)
    if (k === 2 && seen <= 2) throw new Error('busy') // succeeds on the third attempt
    return k
  }
  const out = sink.collect<{ value: number; result: number }>()
  const errors = sink.collect<ErrorRecord>()
  const p = pipeline('lookup-errors', { batchSize: 10, onError: 'error-output' })
  const s = p.from(source.collection([1, 2, 3, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1])).lookup(fn, { timeout: 500, retries: 2, cache: { ttl: '1h', max: 100 } })
  s.to(out)
  p.errors().to(errors)
  const job = start(p)
  assert.equal((await job.done).status, 'finished')
  assert.equal(job.metrics().steps.find((t) => t.step === 'lookup-1')?.retries, 2 + 2, "the step's retries: two of key 2, two of key 3")
  assert.deepEqual(out.values.map((v) => v.value), [1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1])
  assert.deepEqual(errors.values.map((e) => [e.step, e.record]), [['lookup-1', 3]])
  assert.match(errors.values[0].error, /SLUICE_LOOKUP_FAILED|lookup failed after 3 attempts/)
  assert.equal(calls, 1 + 3 + 3, 'key 1 once (cached), key 2 three times, key 3 three timeouts')
})

test('with checkpoints, every record comes out once, lookups in flight finish before the barrier', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-lookup-chk-'))
  try {
    const out = sink.collect<{ value: number; result: number }>()
    const p = pipeline('lookup-chk', { batchSize: 20 })
    p.from(source.collection(range(2000)))
      .lookup(async (k: number) => {
        await new Promise((r) => setImmediate(r))
        return -k
      }, { concurrency: 8, ordered: false })
      .to(out)
    const s = await run(p, { checkpoint: { dir, intervalMs: 1 } })
    assert.equal(s.status, 'finished')
    assert.ok((s.checkpoints?.completed ?? 0) >= 1)
    assert.deepEqual(out.values.map((v) => v.value).sort((a, b) => a - b), range(2000))
    assert.ok(out.values.every((v) => v.result === -v.value))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

const redisSvc = serviceOrSkip('redis')
test('lookup.redis reads strings and hashes', { skip: redisSvc.skip }, async () => {
  const r = new Redis(String(redisSvc.info!.url))
  const prefix = `lk${process.pid}:`
  await r.set(`${prefix}price:a`, '{"cents":150}')
  await r.hset(`${prefix}user:7`, { name: 'ann', country: 'NL' })
  await r.quit()
  const prices = sink.collect<{ value: string; result: unknown }>()
  const users = sink.collect<{ value: number; result: unknown }>()
  const p = pipeline('lookup-redis')
  p.from(source.collection(['a', 'b'])).lookup(lookup.redis({ url: String(redisSvc.info!.url), prefix: `${prefix}price:`, json: true })).to(prices)
  p.from(source.collection([7])).lookup(lookup.redis({ url: String(redisSvc.info!.url), type: 'hash', prefix: `${prefix}user:` })).to(users)
  await run(p)
  assert.deepEqual(prices.values, [{ value: 'a', result: { cents: 150 } }, { value: 'b', result: undefined }])
  assert.deepEqual(users.values, [{ value: 7, result: { name: 'ann', country: 'NL' } }])
})

const pgSvc = serviceOrSkip('postgres')
test('lookup.postgres runs a parameterised query per key', { skip: pgSvc.skip }, async () => {
  await sql('CREATE TABLE IF NOT EXISTS lookup_users (id INT PRIMARY KEY, tier TEXT)')
  await sql("INSERT INTO lookup_users VALUES (1, 'gold'), (2, 'free') ON CONFLICT (id) DO NOTHING")
  const out = sink.collect<{ id: number; tier: unknown }>()
  const p = pipeline('lookup-pg')
  p.from(source.collection([{ id: 1 }, { id: 2 }, { id: 3 }]))
    .lookup(lookup.postgres({ url: String(pgSvc.info!.url), query: 'SELECT tier FROM lookup_users WHERE id = $1' }), { key: (o) => o.id, into: (o, row) => ({ id: o.id, tier: (row as { tier?: string } | undefined)?.tier }) })
    .to(out)
  await run(p)
  assert.deepEqual(out.values, [{ id: 1, tier: 'gold' }, { id: 2, tier: 'free' }, { id: 3, tier: undefined }])
})
