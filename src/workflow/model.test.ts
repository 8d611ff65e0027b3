import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SluiceError } from '../core/errors.ts'
import { daily, hourly, monthly, staticPartitions } from './partitions.ts'
import { backoffDelay, seededRandom } from './retry.ts'
import { cron, dueTicks, every } from './schedule.ts'
import { fnTask } from './task.ts'
import { workflow } from './workflow.ts'

const noop = fnTask(() => {})

test('tasks come out upstream first', () => {
  const wf = workflow('w').task('c', noop, { dependsOn: ['b'] }).task('a', noop).task('b', noop, { dependsOn: ['a'] }).build()
  assert.deepEqual(wf.tasks.map((t) => t.name), ['a', 'b', 'c'])
})

test('a cycle is rejected with its path', () => {
  const b = workflow('w').task('a', noop, { dependsOn: ['c'] }).task('b', noop, { dependsOn: ['a'] }).task('c', noop, { dependsOn: ['b'] })
  assert.throws(() => b.build(), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_WORKFLOW_CYCLE' && e.message.includes('a -> c -> b -> a'))
})

test('an unknown dependency is rejected with its path', () => {
  const b = workflow('w').task('a', noop).task('b', noop, { dependsOn: ['zz'] })
  assert.throws(() => b.build(), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_WORKFLOW_INVALID' && e.message.includes('w > b > zz'))
})

test('duplicate task names are rejected', () => {
  assert.throws(() => workflow('w').task('a', noop).task('a', noop), /two tasks named 'a'/)
})

test('hourly partitions: complete ones only, bounds, ranges', () => {
  const p = hourly('2026-01-01T00:30Z')
  assert.deepEqual(p.keysUntil(Date.parse('2026-01-01T02:59Z')), ['2026-01-01T00', '2026-01-01T01'])
  assert.deepEqual(p.bounds('2026-01-01T01'), { start: Date.parse('2026-01-01T01:00Z'), end: Date.parse('2026-01-01T02:00Z') })
  assert.equal(p.range('2026-01-01T22', '2026-01-02T01').length, 4)
  assert.throws(() => p.bounds('2025-12-31T23'), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_WORKFLOW_PARTITION')
  assert.throws(() => p.bounds('2026-01-01'), /not a hourly partition/)
})

test('daily and monthly partitions cross month and year ends', () => {
  assert.deepEqual(daily('2026-02-27').range('2026-02-27', '2026-03-01'), ['2026-02-27', '2026-02-28', '2026-03-01'])
  const m = monthly('2025-11')
  assert.deepEqual(m.keysUntil(Date.parse('2026-02-15Z')), ['2025-11', '2025-12', '2026-01'])
  assert.deepEqual(m.bounds('2025-12'), { start: Date.parse('2025-12-01Z'), end: Date.parse('2026-01-01Z') })
})

test('static partitions', () => {
  const p = staticPartitions(['eu', 'us', 'apac'])
  assert.deepEqual(p.range('us', 'apac'), ['us', 'apac'])
  assert.deepEqual(p.bounds('eu'), {})
  assert.throws(() => p.bounds('mars'), (e: unknown) => e instanceof SluiceError && e.hint === 'one of: eu, us, apac')
})

test('cron in a time zone, and its catch-up policy', () => {
  const s = cron('0 9 * * *', { timezone: 'Europe/Paris' })
  // 09:00 in Paris is 08:00 UTC in winter, 07:00 UTC in summer
  assert.equal(s.next(Date.parse('2026-01-10T12:00Z')), Date.parse('2026-01-11T08:00Z'))
  assert.equal(s.next(Date.parse('2026-07-10T12:00Z')), Date.parse('2026-07-11T07:00Z'))
  const from = Date.parse('2026-01-10T12:00Z')
  const to = Date.parse('2026-01-13T12:00Z')
  assert.equal(dueTicks(s, from, to, 'all').length, 3)
  assert.deepEqual(dueTicks(s, from, to, 'latest'), [Date.parse('2026-01-13T08:00Z')])
  assert.throws(() => cron('not a cron'), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_WORKFLOW_INVALID')
})

test('fixed intervals align on their anchor', () => {
  const s = every(15 * 60_000)
  assert.equal(s.next(Date.parse('2026-01-01T10:07Z')), Date.parse('2026-01-01T10:15Z'))
  assert.equal(s.next(Date.parse('2026-01-01T10:15Z')), Date.parse('2026-01-01T10:30Z'))
  assert.throws(() => every(0), /positive/)
})

test('backoff grows exponentially, is capped, and its jitter stays in range', () => {
  const policy = { retries: 5, baseMs: 1000, factor: 2, maxMs: 5000, jitter: 0 }
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(policy, n, Math.random)), [1000, 2000, 4000, 5000])
  const jittered = { ...policy, jitter: 0.5 }
  const rnd = seededRandom(7)
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(jittered, 2, rnd)
    assert.ok(d >= 1000 && d <= 2000, `delay ${d}`)
  }
  assert.deepEqual([1, 2, 3].map(() => seededRandom(42)()), [seededRandom(42)(), seededRandom(42)(), seededRandom(42)()])
})
