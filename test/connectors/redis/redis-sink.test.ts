import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { agg, pipeline, run, sink, source, start, SluiceError } from '../../../src/index.ts'
import { DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE } from '../../../src/core/batch.ts'
import { serviceOrSkip } from '../../support/services.ts'

const svc = serviceOrSkip('redis')
const skip = svc.skip
const url = () => String(svc.info?.url)
let client: Redis | undefined
const r = () => (client ??= new Redis(url()))
after(async () => void (await client?.quit()))
const prefix = `t${process.pid}:`

test('strings with a TTL, hashes replaced whole, sorted sets: one pipeline per batch', { skip }, async () => {
  const users = [
    { id: 1, name: 'ann', points: 30 },
    { id: 2, name: 'bob', points: 10 },
  ]
  const p = pipeline('redis-types')
  const s = p.from(source.collection(users))
  s.to(sink.redis({ url: url(), type: 'string', key: (u) => `${prefix}name:${u.id}`, value: (u) => u.name, ttl: '1h' }))
  s.to(sink.redis({ url: url(), type: 'hash', key: (u) => `${prefix}user:${u.id}` }))
  s.to(sink.redis({ url: url(), type: 'zset', key: () => `${prefix}leaders`, member: (u) => u.name, score: (u) => u.points }))
  await r().hset(`${prefix}user:1`, 'stale', 'x')
  assert.equal((await run(p)).status, 'finished')
  assert.equal(await r().get(`${prefix}name:1`), 'ann')
  const ttl = await r().pttl(`${prefix}name:1`)
  assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `ttl ${ttl}`)
  assert.deepEqual(await r().hgetall(`${prefix}user:1`), { id: '1', name: 'ann', points: '30' }, 'the hash is replaced whole')
  assert.deepEqual(await r().zrange(`${prefix}leaders`, '0', '-1', 'WITHSCORES'), ['bob', '10', 'ann', '30'])
  await run(p) // a replay writes the same keys to the same values
  assert.deepEqual(await r().zrange(`${prefix}leaders`, '0', '-1', 'WITHSCORES'), ['bob', '10', 'ann', '30'])
  assert.deepEqual(await r().hgetall(`${prefix}user:2`), { id: '2', name: 'bob', points: '10' })
})

test('a changelog: retractions delete the key or the member, the update after writes it again', { skip }, async () => {
  const w = await sink.redis<{ k: string; v: number }>({ url: url(), type: 'string', key: (x) => `${prefix}cl:${x.k}`, value: (x) => x.v }).open({ pipeline: 'p', stepId: 'sink-redis-1', subtask: 0 })
  await w.write({ values: [{ k: 'a', v: 1 }, { k: 'b', v: 1 }, { k: 'a', v: 1 }, { k: 'a', v: 2 }, { k: 'b', v: 1 }], times: [0, 0, 0, 0, 0], kinds: [INSERT, INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE] })
  await w.close()
  assert.equal(await r().get(`${prefix}cl:a`), '2')
  assert.equal(await r().exists(`${prefix}cl:b`), 0)
})

test('a keyed aggregate into a sorted set ends at the totals', { skip }, async () => {
  const events = Array.from({ length: 300 }, (_, i) => ({ user: `u${i % 5}`, amount: 1 + (i % 3) }))
  const p = pipeline('redis-totals', { batchSize: 16 })
  p.from(source.collection(events))
    .keyBy((e) => e.user)
    .aggregate(agg.sum((e: { amount: number }) => e.amount))
    .to(sink.redis({ url: url(), type: 'zset', key: () => `${prefix}totals`, member: (t) => String(t.key), score: (t) => t.value }))
  assert.equal((await run(p)).status, 'finished')
  const want = new Map<string, number>()
  for (const e of events) want.set(e.user, (want.get(e.user) ?? 0) + e.amount)
  const got = await r().zrange(`${prefix}totals`, '0', '-1', 'WITHSCORES')
  const m = new Map<string, number>()
  for (let i = 0; i < got.length; i += 2) m.set(got[i], Number(got[i + 1]))
  assert.deepEqual([...m].sort(), [...want].sort())
})

test('options are checked when the sink is made; the url password never reaches describe', () => {
  assert.throws(() => sink.redis({ url: '', type: 'string', key: () => 'k' }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_ARGUMENT')
  assert.throws(() => sink.redis({ url: 'redis://h', type: 'list' as 'string', key: () => 'k' }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
  assert.throws(() => sink.redis({ url: 'redis://h', type: 'zset', key: () => 'k' }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
  assert.ok(!JSON.stringify(sink.redis({ url: 'redis://:secret@h:6379', type: 'string', key: () => 'k' }).describe()).includes('secret'))
})

test('a write to a Redis that does not answer fails with a SluiceError naming the step', async () => {
  const w = await sink.redis<{ k: string }>({ url: 'redis://127.0.0.1:1', type: 'string', key: (x) => x.k }).open({ pipeline: 'p', stepId: 'sink-redis-9', subtask: 0 })
  await assert.rejects(async () => w.write({ values: [{ k: 'a' }], times: [0] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SINK_FAILED' && e.step === 'sink-redis-9')
  await w.close()
})

test("the bytes of keys, values, fields and members written are the step's bytesOut", { skip }, async () => {
  const p = pipeline('redis-bytes')
  p.from(source.collection(Array.from({ length: 100 }, (_, i) => ({ id: i, name: 'ü'.repeat(10) })))).to(sink.redis({ url: url(), type: 'string', key: (u) => `${prefix}bytes:${u.id}`, value: (u) => u.name }))
  const job = start(p)
  assert.equal((await job.done).status, 'finished')
  const out = job.metrics().steps.find((t) => t.kind.includes('redis'))
  assert.ok(out !== undefined, job.metrics().steps.map((t) => t.kind).join(', '))
  // Each value is 20 bytes of UTF-8 (10 characters); each key at least prefix + 'bytes:' + one digit.
  assert.ok(out.bytesOut >= 100 * (20 + prefix.length + 7), `bytesOut ${out.bytesOut}`)
})
