import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ERROR_CODES, errorCodesMarkdown } from './error-codes.ts'
import { SluiceError } from './errors.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name)
    return d.isDirectory() ? sources(path) : d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [path] : []
  })
}

test('every error code raised in src/ is registered, and every registered code is raised somewhere', () => {
  const used = new Set<string>()
  for (const file of sources(join(root, 'src'))) {
    if (file.endsWith('error-codes.ts')) continue
    for (const m of readFileSync(file, 'utf8').matchAll(/'(SLUICE_[A-Z0-9_]+)'/g)) used.add(m[1])
  }
  used.delete('SLUICE_FAILPOINT')
  used.delete('SLUICE_DEBUG')
  used.delete('SLUICE_MASTER_KEY')
  const registered = new Set(Object.keys(ERROR_CODES))
  assert.deepEqual([...used].filter((c) => !registered.has(c)).sort(), [], 'raised but not registered')
  assert.deepEqual([...registered].filter((c) => !used.has(c)).sort(), [], 'registered but never raised')
})

test('docs/errors.md is the registry', () => {
  const regenerate = `regenerate it: node -e "import('./src/core/error-codes.ts').then((m) => process.stdout.write(m.errorCodesMarkdown()))" > docs/errors.md`
  assert.equal(readFileSync(join(root, 'docs', 'errors.md'), 'utf8'), errorCodesMarkdown(), regenerate)
})

test("a SluiceError takes its code's domain unless told otherwise; a closed log is Sluice's fault, not the user's", () => {
  assert.equal(new SluiceError('SLUICE_LOG_CLOSED', 'the log is closed').domain, 'internal')
  assert.equal(new SluiceError('SLUICE_CHECKPOINT_WRITE_FAILED', 'disk full').domain, 'external')
  assert.equal(new SluiceError('SLUICE_BAD_OPTION', 'no path').domain, 'user')
  assert.equal(new SluiceError('SLUICE_CHECKPOINT_CORRUPT', 'inconsistent deltas', { domain: 'internal' }).domain, 'internal')
})
