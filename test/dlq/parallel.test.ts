import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '../../src/index.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'
import { build } from './fixtures/keyed-failing.ts'

const module = new URL('./fixtures/keyed-failing.ts', import.meta.url).href

test('dead letters of every subtask reach the one writer on the main thread; transient failures are retried in the workers', async () => {
  for (const parallelism of [1, 3]) {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-dlq-par-'))
    try {
      const params = { dir: join(dir, 'log') }
      const { pipeline, out } = build(params)
      const s = await run(pipeline, { parallelism, module, params })
      assert.equal(out.values.length, 4995)
      assert.equal(s.errors, 5)
      assert.equal(s.steps.find((m) => m.step === 'explode')?.retries, 5)
      const letters = await readDeadLetters(params.dir, 'keyed-dlq.dlq')
      assert.deepEqual(letters.map((l) => (l.record as { seq: number }).seq).sort((a, b) => a - b), [999, 1999, 2999, 3999, 4999])
      assert.ok(letters.every((l) => l.step === 'explode' && l.reason === 'user-function' && l.attempts === 1 && l.pipeline === 'keyed-dlq'))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
})
