// The pieces of the package build that rewrite what tsc emits, and the packed manifest.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { packedExports, rewriteDeclarationImports, rewriteModuleUrls } from '../../scripts/build-package.ts'

test('exports of TypeScript sources point to the build, with types first; others stay', () => {
  assert.deepEqual(packedExports({ '.': './src/index.ts', './cli': './src/cli/main.ts', './package.json': './package.json' }), {
    '.': { types: './dist/index.d.ts', default: './dist/index.js' },
    './cli': { types: './dist/cli/main.d.ts', default: './dist/cli/main.js' },
    './package.json': './package.json',
  })
})

test("a worker's module URL is pointed at the compiled file, which must exist", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-build-'))
  try {
    mkdirSync(join(dir, 'parallel'))
    writeFileSync(join(dir, 'parallel', 'worker.js'), '')
    const file = join(dir, 'parallel', 'runner.js')
    assert.equal(rewriteModuleUrls(file, "new Worker(new URL('./worker.ts', import.meta.url))"), "new Worker(new URL('./worker.js', import.meta.url))")
    assert.equal(rewriteModuleUrls(file, "new URL('./data.json', import.meta.url)"), "new URL('./data.json', import.meta.url)")
    assert.throws(() => rewriteModuleUrls(file, "new URL('./missing.ts', import.meta.url)"), /missing\.js was not built/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('relative .ts specifiers in declarations become .js; packages and other files stay', () => {
  const dts = ["import type { A } from './a.ts';", "export { B } from '../b/c.ts';", "export type C = import('./c.ts').C;", "import type { D } from 'node:fs';", "import './x.json';"].join('\n')
  assert.equal(
    rewriteDeclarationImports(dts),
    ["import type { A } from './a.js';", "export { B } from '../b/c.js';", "export type C = import('./c.js').C;", "import type { D } from 'node:fs';", "import './x.json';"].join('\n'),
  )
})
