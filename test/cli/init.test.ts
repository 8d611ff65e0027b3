// sluice init: the files of a new project (the package test installs one and runs its npm test).
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sluice } from './sluice.ts'

const dir = mkdtempSync(join(tmpdir(), 'sluice-init-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('init writes a project that depends on this version of Sluice, and says what to do next', () => {
  const r = sluice(['init', 'My Pipelines'], { cwd: dir })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /\nnext:\n {2}cd My Pipelines\n {2}npm install\n {2}npx sluice run pipeline\.ts\n {2}npm test\n$/)
  const project = join(dir, 'My Pipelines')
  for (const f of ['package.json', 'tsconfig.json', 'pipeline.ts', 'data/orders.csv', 'test/pipeline.test.ts', 'README.md', '.gitignore']) assert.ok(existsSync(join(project, f)), f)
  const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { name: string; type: string; dependencies: Record<string, string>; scripts: Record<string, string> }
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(pkg.name, 'my-pipelines')
  assert.equal(pkg.type, 'module')
  assert.deepEqual(pkg.dependencies, { sluice: `^${own.version}` })
  assert.match(pkg.scripts.test, /^node --test /)
  assert.match(readFileSync(join(project, 'README.md'), 'utf8'), /npx sluice run pipeline\.ts[^\n]*\nnpm test/)
})

test('init refuses a folder that is not empty', () => {
  const r = sluice(['init', 'My Pipelines'], { cwd: dir })
  assert.equal(r.code, 3)
  assert.match(r.stderr, /^error SLUICE_INIT_NOT_EMPTY: 'My Pipelines' exists and is not empty/)
})
