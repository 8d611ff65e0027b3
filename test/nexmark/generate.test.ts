import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli/main.ts'
import { commands } from '../../src/cli/main.ts'
import type { CliContext } from '../../src/cli/command.ts'
import { NexmarkGenerator } from '../../src/connectors/nexmark/index.ts'

function context(cwd: string): CliContext & { err: string[] } {
  const err: string[] = []
  const sink = (into: string[]) => ({ write: (s: string) => (into.push(s), true) }) as unknown as NodeJS.WriteStream
  return { stdout: sink([]), stderr: sink(err), cwd, env: {}, commands, err }
}

test('sluice nexmark generate writes the benchmark events as JSON lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexmark-'))
  try {
    const code = await main(['nexmark', 'generate', '--events', '1234', '--out', 'out/events.jsonl'], context(dir))
    assert.equal(code, 0)
    const lines = readFileSync(join(dir, 'out/events.jsonl'), 'utf8').trimEnd().split('\n')
    assert.equal(lines.length, 1234)
    const g = new NexmarkGenerator()
    assert.deepEqual(lines.map((l) => JSON.parse(l)), Array.from({ length: 1234 }, (_, n) => g.event(n)))
    const first = JSON.parse(lines[0])
    assert.equal(first.type, 'person')
    assert.equal(first.dateTime, Date.UTC(2026, 0, 1))
    const auction = JSON.parse(lines[1])
    assert.deepEqual(Object.keys(auction), ['type', 'id', 'itemName', 'description', 'initialBid', 'reserve', 'dateTime', 'expires', 'seller', 'category', 'extra'])
    assert.ok(Number.isInteger(auction.expires))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('sluice nexmark generate honours --rate and --seed, and rejects a missing --events', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nexmark-'))
  try {
    assert.equal(await main(['nexmark', 'generate', '--events', '20', '--rate', '1000', '--seed', '3', '--out', 'e.jsonl'], context(dir)), 0)
    const lines = readFileSync(join(dir, 'e.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))
    const g = new NexmarkGenerator({ ratePerSecond: 1000, seed: 3 })
    assert.deepEqual(lines, Array.from({ length: 20 }, (_, n) => g.event(n)))
    assert.equal(lines[19].dateTime - lines[0].dateTime, 19)
    assert.equal(await main(['nexmark', 'generate', '--out', 'x.jsonl'], context(dir)), 2)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
