// Type checks of user pipelines: `sluice check`, and `sluice run` checking first unless --no-check.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { root, sluice } from './sluice.ts'

// Pipelines are written inside the repository (so that 'sluice' resolves), in an ignored folder that no
// tsconfig 'include' lists: the check must cover them anyway.
mkdirSync(join(root, '.tmp'), { recursive: true })
const dir = mkdtempSync(join(root, '.tmp', 'check-'))
const outside = mkdtempSync(join(tmpdir(), 'sluice-check-'))
const env = { SLUICE_CACHE_DIR: join(outside, 'cache') }
after(() => {
  rmSync(dir, { recursive: true, force: true })
  rmSync(outside, { recursive: true, force: true })
})

function write(name: string, lines: string[]): string {
  writeFileSync(join(dir, name), lines.join('\n') + '\n')
  return relative(root, join(dir, name))
}

const orders = (field: string) => [
  "import { pipeline, sink, source } from 'sluice'",
  '',
  'interface Order { id: number; country: string }',
  "const orders: Order[] = [{ id: 1, country: 'FR' }]",
  "export default pipeline('orders')",
  '  .from(source.collection(orders))',
  `  .map((o) => ({ id: o.id, country: o.${field} }))`,
  '  .to(sink.console())',
]

test('a typo in a field stops sluice run before it starts, naming file:line:col', () => {
  const file = write('typo.ts', orders('contry'))
  const r = sluice(['run', file], { env })
  assert.equal(r.code, 3)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, new RegExp(`^${file.replaceAll('.', '\\.')}:7:39 - error TS2551: Property 'contry' does not exist on type 'Order'\\. Did you mean 'country'\\?\\n`))
  assert.match(r.stderr, /error SLUICE_TYPE_CHECK_FAILED: '.*typo\.ts' does not type-check: 1 error\n  hint: .*--no-check/)
  const check = sluice(['check', file], { env })
  assert.equal(check.code, 3)
  assert.match(check.stderr, /typo\.ts:7:39 - error TS2551/)
  const unchecked = sluice(['run', file, '--no-check', '--quiet'], { env })
  assert.equal(unchecked.code, 0)
  assert.equal(unchecked.stdout, '{"id":1}\n')
})

test('a pipeline that passed is not checked again until one of its files changes', () => {
  const file = write('good.ts', orders('country'))
  const first = sluice(['check', file], { env })
  assert.equal(first.code, 0, first.stderr)
  assert.equal(first.stdout, `${file}: no type errors (options of tsconfig.json)\n`)
  const again = sluice(['check', file], { env })
  assert.equal(again.stdout, `${file}: no type errors (options of tsconfig.json, unchanged since the last check)\n`)
  const run = sluice(['run', file, '--quiet'], { env })
  assert.equal(run.code, 0)
  assert.equal(run.stdout, '{"id":1,"country":"FR"}\n')
  write('good.ts', orders('country').map((l) => l.replace("'FR'", "'DE'")))
  const changed = sluice(['check', file], { env })
  assert.equal(changed.stdout, `${file}: no type errors (options of tsconfig.json)\n`)
  write('good.ts', orders('county'))
  assert.equal(sluice(['check', file], { env }).code, 3)
})

test('a change in a module the pipeline imports is checked again', () => {
  write('order.ts', ['export interface Order { id: number; country: string }'])
  const file = write('imports.ts', [
    "import { pipeline, sink, source } from 'sluice'",
    "import type { Order } from './order.ts'",
    "const orders: Order[] = [{ id: 1, country: 'FR' }]",
    "export default pipeline('orders').from(source.collection(orders)).map((o) => o.country).to(sink.console())",
  ])
  assert.equal(sluice(['check', file], { env }).code, 0)
  write('order.ts', ['export interface Order { id: number; land: string }'])
  const r = sluice(['check', file], { env })
  assert.equal(r.code, 3)
  assert.match(r.stderr, /imports\.ts:3:35 - error TS2353/)
})

test('a syntax error names file:line:col, with and without the check', () => {
  const file = write('syntax.ts', ["import { pipeline, sink, source } from 'sluice'", "export default pipeline('s').from(source.collection([1])).map((x) => x +* 2)).to(sink.console())"])
  const checked = sluice(['run', file], { env })
  assert.equal(checked.code, 3)
  assert.match(checked.stderr, /syntax\.ts:2:\d+ - error TS1109: Expression expected/)
  const unchecked = sluice(['run', file, '--no-check'], { env })
  assert.equal(unchecked.code, 3)
  assert.match(unchecked.stderr, /^error SLUICE_PIPELINE_LOAD_FAILED: cannot load pipeline module '.*syntax\.ts': .*syntax\.ts:2:\d+: /)
  assert.doesNotMatch(unchecked.stderr, /\n\s+at /)
})

test('without a tsconfig.json the check uses strict defaults', () => {
  writeFileSync(join(outside, 'p.ts'), "const n: number = 'one'\nexport default n\n")
  const r = sluice(['check', 'p.ts'], { env, cwd: outside })
  assert.equal(r.code, 3)
  assert.match(r.stderr, /^p\.ts:1:7 - error TS2322: Type 'string' is not assignable to type 'number'\./)
  assert.match(r.stderr, /checked with default strict options/)
})

test('a lone file with imports and no package.json "type" is checked as a module, as Node runs it', () => {
  const lone = join(outside, 'lone')
  mkdirSync(lone, { recursive: true })
  writeFileSync(join(lone, 'helper.ts'), 'export const n: number = 1\n')
  writeFileSync(join(lone, 'p.ts'), "import { n } from './helper.ts'\nexport default n\n")
  const r = sluice(['check', 'p.ts'], { env, cwd: lone })
  assert.equal(r.code, 0, r.stderr)
})
