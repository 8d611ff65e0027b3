// Golden end-to-end tests: every folder test/golden/<case>/ holds pipeline.ts (default export: a function
// ({ params }) => Pipeline that reads params.input and writes JSONL to params.output), input.jsonl and
// expected.jsonl. Each case runs through the CLI as a child process; its output must equal expected.jsonl
// as a multiset of records, changelog kinds (the `op` field) included.
//
// Watermarks advance between source batches, so a record is judged late or on time against the watermark
// of the batches before it. Cases run with --batch-size 1, which makes that exact per record. A case whose
// output cannot depend on batching says so in case.json ({ "batchIndependent": true }) and also runs with
// the default batch size. At --parallelism 4 the changelog applied (the final table) must be the same.
// Each case also runs with checkpoints and is killed with SIGKILL at a failpoint after its second checkpoint
// (paced by record count, crash-child.ts), before its input ends; `sluice run` restores it, at parallelism
// 1 and at 4, and the output is that of the run straight through.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const here = fileURLToPath(new URL('.', import.meta.url))
const cases = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'pipeline.ts')))
  .map((d) => d.name)
  .sort()

/** A record with its keys sorted, so that lines compare independently of key order. */
function canonical(line: string): string {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sortKeys) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sortKeys(x)])) : v
  return JSON.stringify(sortKeys(JSON.parse(line)))
}

const records = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(canonical)
    .sort()

/**
 * The changelog applied: the rows that remain (as a multiset), without `op`. Across subtasks the order in which
 * updates of different upstream subtasks meet is not fixed, so intermediate updates may differ while the
 * table they build is the same; for an insert-only output this is the output itself.
 */
function materialized(text: string): string[] {
  const rows = new Map<string, number>()
  for (const l of text.split('\n')) {
    if (l.trim() === '') continue
    const { op, ...row } = JSON.parse(l) as { op?: string }
    const key = canonical(JSON.stringify(row))
    const add = op === undefined || op === '+I' || op === '+U' ? 1 : -1
    rows.set(key, (rows.get(key) ?? 0) + add)
  }
  return [...rows].flatMap(([k, n]) => Array.from({ length: Math.max(0, n) }, () => k)).sort()
}

/** Kills the case at `failpoint` in a checkpointed run; returns the flags that restore it. */
function crash(name: string, tmp: string, output: string, failpoint: string): string[] {
  // Two checkpoints of at most 2 records each come before the input's end only if it holds more than 4.
  const lines = readFileSync(join(here, name, 'input.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '').length
  assert.ok(lines > 4, `${name}: input too short to be killed midway`)
  const chk = join(tmp, 'chk')
  const child = join(here, 'crash-child.ts')
  const r = spawnSync(process.execPath, [child, `test/golden/${name}`, output, chk, '2'], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, SLUICE_FAILPOINT: failpoint } })
  assert.equal(r.signal, 'SIGKILL', `${name}: the run was to be killed at ${failpoint}, it ended with ${r.status}:\n${r.stderr}`)
  return ['--checkpoint-dir', chk]
}

function runCase(name: string, flags: string[], compare: 'exact' | 'table' = 'exact', failpoint?: string): void {
  const dir = `test/golden/${name}`
  const tmp = mkdtempSync(join(tmpdir(), `sluice-golden-${name}-`))
  try {
    const output = join(tmp, 'output.jsonl')
    if (failpoint !== undefined) flags = [...flags, ...crash(name, tmp, output, failpoint)]
    const args = ['bin/sluice.js', 'run', `${dir}/pipeline.ts`, '--param', `input=${dir}/input.jsonl`, '--param', `output=${output}`, '--quiet', ...flags]
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 300_000 })
    assert.equal(r.status, 0, `sluice run ${name} ${flags.join(' ')} exited with ${r.status}:\n${r.stderr}`)
    const expected = readFileSync(join(root, dir, 'expected.jsonl'), 'utf8')
    const actual = readFileSync(output, 'utf8')
    if (compare === 'exact') assert.deepEqual(records(actual), records(expected), `${name} ${flags.join(' ')}`)
    else assert.deepEqual(materialized(actual), materialized(expected), `${name} ${flags.join(' ')} (changelog applied)`)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

const options = (name: string): { batchIndependent?: boolean } => {
  const f = join(here, name, 'case.json')
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { batchIndependent?: boolean }) : {}
}

test('golden cases exist', () => {
  assert.ok(cases.length >= 6, `found ${cases.join(', ')}`)
})

// Manifest written but sinks not committed yet, or both done: the restore must commit, or must not again.
const failpoints = ['checkpoint-before-commit:2', 'checkpoint-after-commit:2']

cases.forEach((name, i) => {
  test(`golden: ${name}`, () => runCase(name, ['--batch-size', '1']))
  if (options(name).batchIndependent === true) test(`golden: ${name} (default batch size)`, () => runCase(name, []))
  test(`golden: ${name} with --parallelism 4`, () => runCase(name, ['--batch-size', '1', '--parallelism', '4'], 'table'))
  const fp = failpoints[i % failpoints.length]
  test(`golden: ${name} killed at ${fp}, restored`, () => runCase(name, ['--batch-size', '1'], 'exact', fp))
  test(`golden: ${name} killed at ${fp}, restored with --parallelism 4`, () => runCase(name, ['--batch-size', '1', '--parallelism', '4'], 'table', fp))
})
