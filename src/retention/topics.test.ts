import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openLog } from '../log/log.ts'
import { applyRetention } from './apply.ts'
import { planRetention } from './plan.ts'
import { resolvePolicy } from './policy.ts'

const DAY = 86_400_000
const NOW = Date.parse('2026-06-01T00:00:00Z')

/** A log with topic `events` (old records, then new ones, over several segments) and `orders.dlq` (new only). */
async function fill(dir: string): Promise<void> {
  const log = await openLog(dir, { retentionCheckMs: 0, now: () => NOW })
  await log.createTopic('events', { partitions: 1, segmentBytes: 256 })
  await log.createTopic('orders.dlq', { partitions: 1, segmentBytes: 256, retentionMs: '1d' })
  for (let i = 0; i < 40; i++) {
    const old = i < 20
    await log.append('events', 0, [{ value: `{"n":${i}}`, timestamp: NOW - (old ? 40 : 1) * DAY }])
    await log.append('orders.dlq', 0, [{ value: `{"n":${i}}`, timestamp: NOW - (old ? 3 : 0) * DAY }])
  }
  await log.close()
}

test('log topics: plan lists the old segments (the policy limit, else the topic\'s own), apply removes them through the log', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-retention-topics-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const dir = join(root, 'log')
  await fill(dir)
  const policy = resolvePolicy({ topics: [{ dir, topic: 'events', maxAge: '30d' }, { dir, topic: 'orders.dlq' }] })
  const plan = await planRetention(policy, NOW)
  const events = plan.filter((a) => a.segment?.topic === 'events')
  const dlq = plan.filter((a) => a.segment?.topic === 'orders.dlq')
  assert.ok(events.length > 0 && dlq.length > 0)
  assert.ok(plan.every((a) => a.artifact === 'topic' && a.action === 'remove' && existsSync(a.path)), 'plan deletes nothing')
  assert.match(events[0]!.reason, /topic events partition 0: records older than 30d/)
  assert.match(dlq[0]!.reason, /older than 1d/, "the dead-letter topic's own retention")

  const logFile = join(root, 'retention.log')
  const done = await applyRetention(plan, logFile, NOW)
  assert.equal(done.length, plan.length)
  assert.ok(plan.every((a) => !existsSync(a.path)))
  assert.equal(readFileSync(logFile, 'utf8').trim().split('\n').length, plan.length, 'each deletion logged')

  const log = await openLog(dir, { retentionCheckMs: 0 })
  try {
    for (const topic of ['events', 'orders.dlq']) {
      const start = log.describe(topic).partitions[0]!.startOffset
      assert.ok(start > 0 && start <= 20, `${topic} starts at ${start}: old segments only`)
      const batch = await log.readBatch(topic, 0, start)
      assert.equal(batch.offsets[0], start)
    }
  } finally {
    await log.close()
  }
  assert.deepEqual(await planRetention(policy, NOW), [], 'nothing left to delete')
})

test('log topics: a log a running job holds is left to that job', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-retention-topics-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const dir = join(root, 'log')
  await fill(dir)
  const held = await openLog(dir, { retentionCheckMs: 0 })
  try {
    assert.deepEqual(await planRetention(resolvePolicy({ topics: [{ dir, maxAge: '1d' }] }), NOW), [])
  } finally {
    await held.close()
  }
  assert.deepEqual(await planRetention(resolvePolicy({ topics: [{ dir: join(root, 'nothing') }] }), NOW), [], 'a folder without a log is skipped')
})
