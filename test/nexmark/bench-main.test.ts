import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../bench/nexmark/main.ts'

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))
}

test('--out writes the final rows with the query columns, in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nexmark-bench-'))
  t.mock.method(console, 'log', () => {})
  try {
    await main(['--query', 'q5', '--events', '20000', '--warmup', '0', '--out', join(dir, 'q5.jsonl')])
    const q5 = lines(join(dir, 'q5.jsonl'))
    assert.ok(q5.length > 0)
    for (const r of q5) {
      assert.deepEqual(Object.keys(r), ['auction', 'num', 'window_start', 'window_end'])
      assert.equal(r.window_end as number, (r.window_start as number) + 10_000)
    }
    // An updating query: one final row per key.
    await main(['--query', 'q17', '--events', '20000', '--warmup', '0', '--out', join(dir, 'q17.jsonl')])
    const q17 = lines(join(dir, 'q17.jsonl'))
    assert.equal(new Set(q17.map((r) => `${r.auction}|${r.day}`)).size, q17.length)
    assert.equal(q17.reduce((s, r) => s + (r.total_bids as number), 0), 20_000 * 46 / 50)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('checkpoints are on by default (every 10 s, at least the last one at the end) and off with --checkpoint-interval off', async (t) => {
  const printed: string[] = []
  t.mock.method(console, 'log', (s: string) => void printed.push(s))
  await main(['--query', 'q7', '--events', '20000', '--warmup', '0'])
  const on = JSON.parse(printed.at(-1)!)
  assert.equal(on.checkpointIntervalMs, 10_000)
  assert.ok(on.checkpoints >= 1)
  assert.ok(on.checkpointBytes > 0)
  await main(['--query', 'q7', '--events', '20000', '--warmup', '0', '--checkpoint-interval', '1ms'])
  const often = JSON.parse(printed.at(-1)!)
  assert.equal(often.checkpointIntervalMs, 1)
  assert.ok(often.checkpoints >= 1)
  assert.equal(often.resultRecords, on.resultRecords)
  for (const off of ['off', '0']) {
    await main(['--query', 'q7', '--events', '20000', '--warmup', '0', '--checkpoint-interval', off])
    const m = JSON.parse(printed.at(-1)!)
    assert.equal(m.checkpointIntervalMs, null)
    assert.equal(m.checkpoints, 0)
    assert.equal(m.resultRecords, on.resultRecords)
  }
})
