// Dead letters when a slow user function pauses its step while a checkpoint is taken: the letters of records read
// before a barrier belong to that checkpoint, even when the delivery holding them goes on after the barrier was
// injected. A run killed between a checkpoint's manifest and its commits, then restarted, has every letter and every
// output record exactly once, at parallelism 1 and 2.
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { committedParts } from '../../src/connectors/files/part-files.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'
import { sluice } from '../cli/sluice.ts'

const FIXTURE = 'test/reliability/fixtures/slow-letters.ts'
const COUNT = 512

async function written(dir: string): Promise<number[]> {
  const out: number[] = []
  for (const f of await committedParts(dir)) for (const l of (await readFile(f, 'utf8')).split('\n')) if (l !== '') out.push((JSON.parse(l) as { seq: number }).seq)
  return out.sort((a, b) => a - b)
}

for (const p of [1, 2]) {
  test(`p${p}: killed between a checkpoint's manifest and its commits while a slow step pauses at every barrier, a restart writes every dead letter and every record once`, { timeout: 240_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-slow-letters-'))
    try {
      const dlq = join(dir, 'dlq')
      const args = ['run', FIXTURE, '--no-check', '-q', '--parallelism', String(p), '--param', `out=${join(dir, 'out')}`, '--param', `dlq=${dlq}`, '--param', `count=${COUNT}`, '--checkpoint-dir', join(dir, 'ck'), '--checkpoint-interval', '20ms']
      const killed = sluice(args, { env: { SLUICE_FAILPOINT: 'checkpoint-before-commit:3' } })
      assert.equal(killed.code, null, `not killed at the failpoint: ${killed.stderr}`)
      const again = sluice(args)
      assert.equal(again.code, 0, again.stderr)

      const all = Array.from({ length: COUNT }, (_, n) => n)
      assert.deepEqual(await written(join(dir, 'out')), all.filter((n) => n % 3 !== 0))
      const letters = (await readDeadLetters(dlq, 'slow-letters.dlq')).map((l) => (l.record as { seq: number }).seq).sort((a, b) => a - b)
      assert.deepEqual(letters, all.filter((n) => n % 3 === 0))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
}
