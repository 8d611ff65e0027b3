// Runs the example as its README says (through `sluice run`, at parallelism 2, with checkpoints) against the
// broker of `npm run services -- kafka`, and checks the counts read back with read_committed against counts
// computed from the clicks directly.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bootstrap, broker, createTopic, producer, readAll, topicName } from '../../test/kafka/support.ts'
import type { Click, PageViews } from './pipeline.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))

function clicks(): Click[] {
  const out: Click[] = []
  const t0 = Date.UTC(2026, 0, 1)
  for (let i = 0; i < 2000; i++) out.push({ user: `u${i % 13}`, page: `/p${i % 5}`, kind: i % 4 === 0 ? 'click' : 'view', ts: t0 + i * 150 })
  return out
}

function expected(input: Click[]): PageViews[] {
  const counts = new Map<string, number>()
  for (const c of input) {
    if (c.kind !== 'view') continue
    const minute = new Date(Math.floor(c.ts / 60_000) * 60_000).toISOString()
    counts.set(`${c.page} ${minute}`, (counts.get(`${c.page} ${minute}`) ?? 0) + 1)
  }
  return [...counts].map(([k, views]) => ({ page: k.split(' ')[0], minute: k.split(' ')[1], views })).sort(byPageMinute)
}

const byPageMinute = (a: PageViews, b: PageViews) => a.page.localeCompare(b.page) || a.minute.localeCompare(b.minute)

test('kafka-page-views: views per page and minute, each once in the output topic', { skip: broker.skip }, async () => {
  const input = topicName('clicks')
  const output = topicName('page-views')
  await createTopic(input, 3)
  await createTopic(output, 2)
  const data = clicks()
  const p = await producer({ idempotent: true })
  try {
    await p.send({ topic: input, messages: data.map((c, i) => ({ partition: i % 3, key: c.user, value: JSON.stringify(c) })) })
  } finally {
    await p.disconnect()
  }
  const chk = mkdtempSync(join(tmpdir(), 'sluice-kafka-example-'))
  try {
    const args = ['bin/sluice.js', 'run', 'examples/kafka-page-views/pipeline.ts', '--quiet', '--parallelism', '2', '--checkpoint-dir', chk, '--checkpoint-interval', '200ms']
    for (const [k, v] of Object.entries({ brokers: bootstrap(), input, output, group: `${input}-g`, bounded: 'true' })) args.push('--param', `${k}=${v}`)
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 180_000 })
    assert.equal(r.status, 0, r.stderr)
  } finally {
    rmSync(chk, { recursive: true, force: true })
  }
  const got = (await readAll<PageViews>(output)).flat().sort(byPageMinute)
  assert.deepEqual(got, expected(data))
})
