import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readDeadLetters } from '../../src/dlq/reader.ts'

// Dead letters waiting for a checkpoint are bounded: under a flood of failing records (about 4 KB each) and a
// stalled sink, with no checkpoint before the end of input, the child runs with a 64 MiB JavaScript heap
// (holding the letters would need more: it dies of it) and stays under a fixed RSS bound. Letters past the
// writer's spill size are appended to the log staged and committed with their checkpoint, so every letter is
// there once at the end.

const child = fileURLToPath(new URL('./fixtures/letter-flood.ts', import.meta.url))
const RECORDS = 24_000
const HEAP_MIB = 64
const RSS_BOUND = 320 * 1024 * 1024

test('a flood of dead letters and a stalled sink keep the process under a fixed RSS bound', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-letter-flood-'))
  try {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const c = spawn(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, child, dir, String(RECORDS)], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      c.stdout.on('data', (d) => (stdout += d))
      c.stderr.on('data', (d) => (stderr += d))
      const guard = setTimeout(() => c.kill('SIGKILL'), 240_000)
      c.on('error', reject)
      c.on('close', (code) => {
        clearTimeout(guard)
        resolve({ code, stdout, stderr })
      })
    })
    assert.equal(r.code, 0, r.stderr)
    const { maxRss } = JSON.parse(r.stdout) as { maxRss: number }
    const letters = await readDeadLetters(join(dir, 'dlq'), 'letter-flood.dlq')
    assert.equal(letters.length, RECORDS - RECORDS / 1000, 'every failed record has its letter')
    assert.equal(new Set(letters.map((l) => (l.record as { seq: number }).seq)).size, letters.length, 'once')
    assert.ok(letters.length * 4000 > 1.2 * HEAP_MIB * 2 ** 20, 'the letters add up to more than the heap')
    assert.ok(maxRss < RSS_BOUND, `RSS reached ${(maxRss / 2 ** 20).toFixed(0)} MiB, over the bound of ${RSS_BOUND / 2 ** 20} MiB`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
