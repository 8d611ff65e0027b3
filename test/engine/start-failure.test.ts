import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, SluiceError } from '../../src/index.ts'
import build from './fixtures/copy-jsonl.ts'

// A run that fails at start-up (a missing input) leaves what an earlier run wrote untouched: sources open
// before sinks, so no sink has truncated a file or replaced a part when the start fails.

const module = new URL('./fixtures/copy-jsonl.ts', import.meta.url).href

for (const layout of ['file', 'parts'] as const) {
  for (const parallelism of [1, 2]) {
    for (const checkpoints of [false, true]) {
      test(`a missing input fails the start and leaves earlier ${layout} output untouched (p${parallelism}${checkpoints ? ', checkpoints' : ''})`, async () => {
        const dir = await mkdtemp(join(tmpdir(), 'sluice-start-failure-'))
        try {
          const out = join(dir, layout === 'file' ? 'out.jsonl' : 'out')
          if (layout === 'file') writeFileSync(out, '{"earlier":1}\n')
          else {
            mkdirSync(out)
            writeFileSync(join(out, 'part-0-0.jsonl'), '{"earlier":1}\n')
          }
          const params = { input: join(dir, 'missing.jsonl'), out, layout }
          const opts = { ...(parallelism > 1 ? { parallelism, module, params } : {}), ...(checkpoints ? { checkpoint: { dir: join(dir, 'chk'), intervalMs: 0 } } : {}) }
          await assert.rejects(run(build({ params }), opts), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_FILE_NOT_FOUND')
          if (layout === 'file') assert.equal(readFileSync(out, 'utf8'), '{"earlier":1}\n')
          else {
            assert.deepEqual(readdirSync(out).filter((n) => !n.startsWith('.')), ['part-0-0.jsonl'])
            assert.equal(readFileSync(join(out, 'part-0-0.jsonl'), 'utf8'), '{"earlier":1}\n')
          }
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      })
    }
  }
}
