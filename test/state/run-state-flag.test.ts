import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sluice } from '../cli/sluice.ts'

const fixture = new URL('./fixtures/join-aggregate.ts', import.meta.url).pathname

function lines(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== ''))
}

test('sluice run --state durable gives the output of the heap run, and says where state lived', () => {
  const base = mkdtempSync(join(tmpdir(), 'sluice-state-flag-'))
  try {
    const heap = sluice(['run', fixture, '--no-check', '--json', '--param', `out=${join(base, 'heap')}`], { timeoutMs: 120_000 })
    assert.equal(heap.code, 0, heap.stderr)
    const durable = sluice(['run', fixture, '--no-check', '--json', '--state', 'durable', '--state-dir', join(base, 'stores'), '--state-cache', '8KB', '--param', `out=${join(base, 'durable')}`], { timeoutMs: 120_000 })
    assert.equal(durable.code, 0, durable.stderr)
    const a = lines(join(base, 'heap'))
    assert.ok(a.length > 100)
    assert.deepEqual(lines(join(base, 'durable')), a)
    const summary = JSON.parse(durable.stdout.trim().split('\n').at(-1)!) as { state?: { backend: string }[] }
    assert.ok(summary.state !== undefined && summary.state.length > 0 && summary.state.every((s) => s.backend === 'durable'), durable.stdout)
  } finally {
    rmSync(base, { recursive: true, force: true })
  }
})

test('--state takes heap or durable, and --state-dir needs --state durable', () => {
  const bad = sluice(['run', fixture, '--no-check', '--state', 'disk', '--param', 'out=x'])
  assert.equal(bad.code, 2, bad.stderr)
  assert.match(bad.stderr, /--state must be 'heap' or 'durable'/)
  const dirOnly = sluice(['run', fixture, '--no-check', '--state-dir', 'x', '--param', 'out=x'])
  assert.equal(dirOnly.code, 2, dirOnly.stderr)
  assert.match(dirOnly.stderr, /--state-dir needs --state durable/)
})

test('--state-cache: refused without --state durable and when it is not a size, naming the flag', () => {
  const heap = sluice(['run', fixture, '--no-check', '--state-cache', '1MB'], { timeoutMs: 60_000 })
  assert.equal(heap.code, 2, heap.stderr)
  assert.match(heap.stderr, /--state-cache is the cache of the durable store: it needs --state durable/)
  const bad = sluice(['run', fixture, '--no-check', '--state', 'durable', '--state-cache', 'lots'], { timeoutMs: 60_000 })
  assert.equal(bad.code, 2, bad.stderr)
  assert.match(bad.stderr, /--state-cache must be a size such as '512MB' or '2GB', got 'lots'/)
})
