// Retention of a lineage log that a running transport writes: only closed segments go, so applying it
// while lines are appended loses none.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileTransport } from '../lineage/transport.ts'
import { readLineageText } from '../lineage/segments.ts'
import type { RunEvent } from '../lineage/openlineage.ts'
import { applyRetention } from './apply.ts'
import { planRetention } from './plan.ts'
import { resolvePolicy } from './policy.ts'

const T0 = Date.parse('2026-01-01T00:00:00Z')

test('retention apply, run again and again while a writer appends, removes whole old segments and loses no line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-retention-lineage-'))
  const file = join(dir, 'lineage.ndjson')
  const log = join(dir, 'retention.log')
  let t = T0
  // The writer keeps everything itself: only retention removes.
  const transport = fileTransport(file, { segment: 1000, now: () => t })
  const policy = resolvePolicy({ logs: [{ path: file, maxAge: 3000 }] })
  const N = 300
  let writing = true
  const writer = (async () => {
    for (let n = 0; n < N; n++) {
      t = T0 + n * 100
      await transport.send({ eventTime: new Date(t).toISOString(), eventType: 'RUNNING', n } as unknown as RunEvent)
    }
    writing = false
  })()
  let passes = 0
  let removed = 0
  const retention = (async () => {
    while (writing || passes === 0) {
      const done = await applyRetention(await planRetention(policy, t), log, t)
      assert.ok(done.every((a) => a.action === 'remove' && a.path !== file), 'the file being written is never rewritten')
      removed += done.length
      passes++
      await new Promise((r) => setImmediate(r))
    }
  })()
  await Promise.all([writer, retention])
  await applyRetention(await planRetention(policy, t), log, t)
  const kept = readLineageText(file).split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { n: number }).n)
  const first = kept[0]!
  // No gap: every line from the oldest kept one to the last, in order, and all lines younger than 3 s.
  assert.deepEqual(kept, Array.from({ length: N - first }, (_, i) => first + i))
  assert.ok(T0 + first * 100 <= t - 3000)
  assert.ok(first > 0 && removed > 0, 'old segments were removed')
  // Every removal is logged.
  const logged = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { artifact: string; action: string })
  assert.ok(logged.length >= removed && logged.every((l) => l.artifact === 'log' && l.action === 'remove'))
})
