// The published package, as a user gets it: `npm pack`, install the tarball into a fresh project outside
// the repository, and run a TypeScript pipeline that imports 'sluice' there, under Node 22 and Node 24.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exec, must, node22, packTarball, userProject } from './packed.ts'

const fixture = (name: string) => readFileSync(new URL(`./fixture/${name}`, import.meta.url), 'utf8')

let work = ''
let tarball = ''
let project = ''

before(() => {
  work = mkdtempSync(join(tmpdir(), 'sluice-pack-'))
  tarball = packTarball(work)
  project = userProject(work, tarball, { 'pipeline.ts': fixture('pipeline.ts'), 'click.ts': fixture('click.ts'), 'clicks.jsonl': fixture('clicks.jsonl') })
})

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true })
})

const expected = [
  { page: '/a', start: 0, views: 2 },
  { page: '/a', start: 60000, views: 1 },
  { page: '/a', start: 120000, views: 1 },
  { page: '/b', start: 0, views: 1 },
  { page: '/b', start: 60000, views: 1 },
]

function views(): unknown[] {
  const lines = readFileSync(join(project, 'out', 'views.jsonl'), 'utf8').split('\n').filter((l) => l !== '')
  return lines.map((l) => JSON.parse(l) as { page: string; start: number }).sort((a, b) => (a.page < b.page ? -1 : a.page > b.page ? 1 : a.start - b.start))
}

test('the tarball holds the build, the launcher and the docs, not the sources or tests', () => {
  const list = exec('tar', ['tzf', tarball], work, process.execPath).stdout.split('\n')
  assert.ok(list.includes('package/dist/index.js'))
  assert.ok(list.includes('package/dist/index.d.ts'))
  assert.ok(list.includes('package/dist/index.js.map'))
  assert.ok(list.includes('package/dist/runtime/executor/worker-main.js'))
  assert.ok(list.includes('package/bin/sluice.js'))
  assert.ok(!list.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/') || f.endsWith('.test.js')))
  const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'sluice', 'package.json'), 'utf8')) as { exports: Record<string, unknown>; engines: { node: string } }
  assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' })
  assert.equal(pkg.engines.node, '>=22')
})

for (const [name, nodeBin] of [
  ['Node 24', () => process.execPath],
  ['Node 22', node22],
] as const) {
  test(`${name}: npx sluice run pipeline.ts in the user's project gives the right output, also with worker threads`, () => {
    const bin = nodeBin()
    const version = exec(bin, ['--version'], project, bin).stdout.trim()
    assert.match(version, name === 'Node 22' ? /^v22\./ : /^v24\./)
    for (const flags of [[], ['--parallelism', '2']]) {
      rmSync(join(project, 'out'), { recursive: true, force: true })
      const r = exec('npx', ['sluice', 'run', 'pipeline.ts', '--quiet', ...flags], project, bin)
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
      assert.deepEqual(views(), expected)
    }
    const v = exec('npx', ['sluice', '--version'], project, bin)
    assert.equal(v.stdout.trim(), `sluice 0.1.0 (node ${version.slice(1)})`)
  })
}

test("the package's types check a user's pipeline under a strict tsconfig", () => {
  const r = exec('npx', ['tsc', '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2024', '--allowImportingTsExtensions', '--types', 'node', 'pipeline.ts'], project, process.execPath)
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.ok(readdirSync(join(project, 'node_modules', 'sluice', 'dist')).includes('index.d.ts'))
})

test('sluice check in the user project finds a typo with the default options, and run refuses to start', () => {
  const typo = fixture('pipeline.ts').replace('.keyBy(pageOf)', '.keyBy((c) => c.pgae)')
  writeFileSync(join(project, 'typo.ts'), typo)
  const r = exec('npx', ['sluice', 'check', 'typo.ts'], project, process.execPath)
  assert.equal(r.code, 3)
  assert.match(r.stderr, /^typo\.ts:8:\d+ - error TS2339: Property 'pgae' does not exist on type 'Click'\./)
  assert.match(r.stderr, /checked with default strict options/)
  const run = exec('npx', ['sluice', 'run', 'typo.ts'], project, process.execPath)
  assert.equal(run.code, 3)
  assert.match(run.stderr, /SLUICE_TYPE_CHECK_FAILED/)
})

test('npx sluice init makes a project whose pipeline runs and whose own npm test passes, on Node 24 and 22', () => {
  const init = exec('npx', ['sluice', 'init', '../scaffold'], project, process.execPath)
  assert.equal(init.code, 0, init.stderr)
  const scaffold = join(work, 'scaffold')
  const pkg = JSON.parse(readFileSync(join(scaffold, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  assert.deepEqual(pkg.dependencies, { sluice: '^0.1.0' })
  // The published version is not on the registry: install the tarball in its place.
  must('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], scaffold, process.execPath)
  const run = exec('npx', ['sluice', 'run', 'pipeline.ts', '--quiet'], scaffold, process.execPath)
  assert.equal(run.code, 0, run.stderr)
  const revenue = readFileSync(join(scaffold, 'out', 'revenue.jsonl'), 'utf8').trim().split('\n')
  assert.equal(revenue.length, 9)
  const errors = readFileSync(join(scaffold, 'out', 'errors.jsonl'), 'utf8').trim().split('\n')
  assert.deepEqual(errors.map((l) => JSON.parse(l) as unknown), [{ step: 'orders', position: 'data/orders.csv:19', error: "field 'amount' is not a valid number" }])
  for (const bin of [process.execPath, node22()]) {
    const t = exec('npm', ['test'], scaffold, bin)
    assert.equal(t.code, 0, t.stdout + t.stderr)
    assert.match(t.stdout, /[ℹ#] pass 2\n/)
  }
})
