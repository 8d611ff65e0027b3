// Steps have combiners by default, and a combiner keeps no state and takes a step id of its own kind: checkpoints
// taken before that still restore, a job rescales between parallelism 1 (where the combiner hands records on) and
// 2 (where it folds them) from a savepoint, and the committed output is that of one straight run.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from '../../src/index.ts'
import { build } from './fixtures/combine-restore.ts'
import { committedOutput } from './combine-restore-output.ts'

const module = new URL('./fixtures/combine-restore.ts', import.meta.url).href
const fixtures = fileURLToPath(new URL('./fixtures/before-combiners/', import.meta.url))

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-combine-restore-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const expected = async () => JSON.parse(await readFile(join(fixtures, 'expected.json'), 'utf8')) as Awaited<ReturnType<typeof committedOutput>>

/** Resumes from `savepoint` at `parallelism`, writing to `out`; returns the run's summary. */
async function resume(out: string, savepoint: string, parallelism: number, dir: string) {
  const params = { out }
  return run(build(params), { parallelism, module, params, checkpoint: { dir, intervalMs: 0, restoreFrom: savepoint } })
}

/** Runs until a savepoint with stop after about 4,000 records at `parallelism`. */
async function stopAtSavepoint(out: string, savepoint: string, parallelism: number, dir: string) {
  await mkdir(join(dir, 'control'), { recursive: true })
  await writeFile(join(dir, 'control', 'a.request'), JSON.stringify({ target: savepoint, stop: true }))
  const params = { out, every: '4000' }
  return run(build(params), { parallelism, module, params, checkpoint: { dir, intervalMs: 0 } })
}

test('a straight run commits the output the fixture expects', { timeout: 120_000 }, async () => {
  await withTemp(async (tmp) => {
    const params = { out: join(tmp, 'out') }
    const summary = await run(build(params), { params, checkpoint: { dir: join(tmp, 'chk'), intervalMs: 0 } })
    assert.equal(summary.status, 'finished')
    assert.deepEqual(summary.steps.filter((s) => s.kind === 'combine').map((s) => s.step), ['combine-1', 'combine-2'])
    assert.deepEqual(await committedOutput(params.out), await expected())
  })
})

for (const [from, to] of [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
] as const) {
  test(`a savepoint taken at parallelism ${from} before steps had combiners resumes at parallelism ${to} with them`, { timeout: 120_000 }, async () => {
    await withTemp(async (tmp) => {
      const out = join(tmp, 'out')
      const savepoint = join(tmp, 'savepoint')
      await cp(join(fixtures, `out-p${from}`), out, { recursive: true })
      await cp(join(fixtures, `savepoint-p${from}`), savepoint, { recursive: true })
      const manifest = JSON.parse(await readFile(join(savepoint, 'manifest.json'), 'utf8')) as { operators: { step: string }[]; vertices: { id: string }[] }
      assert.equal(manifest.vertices.some((v) => v.id.startsWith('combine-')), false, 'the savepoint has no combiner')
      const summary = await resume(out, savepoint, to, join(tmp, 'chk'))
      assert.equal(summary.status, 'finished')
      assert.equal(summary.checkpoints?.restoredFrom, 1)
      assert.deepEqual(await committedOutput(out), await expected())
    })
  })
}

for (const [from, to] of [
  [1, 2],
  [2, 1],
] as const) {
  test(`a job with combiners stopped at a savepoint at parallelism ${from} resumes at parallelism ${to}`, { timeout: 120_000 }, async () => {
    await withTemp(async (tmp) => {
      const out = join(tmp, 'out')
      const savepoint = join(tmp, 'savepoint')
      const first = await stopAtSavepoint(out, savepoint, from, join(tmp, 'chk-1'))
      assert.equal(first.status, 'stopped')
      const manifest = JSON.parse(await readFile(join(savepoint, 'manifest.json'), 'utf8')) as { operators: { step: string }[] }
      // The combiners keep no state: the savepoint holds the aggregates' only, as before combiners.
      assert.deepEqual(manifest.operators.map((o) => o.step).sort(), ['keyed-aggregate-1', 'window-aggregate-1'])
      const second = await resume(out, savepoint, to, join(tmp, 'chk-2'))
      assert.equal(second.status, 'finished')
      assert.deepEqual(await committedOutput(out), await expected())
      // At parallelism 2 the combiner folds the hot auction's records; at 1 it hands every record on (the
      // resumed run's counts start from the savepoint's, so the first run's are the ones to compare).
      const atTwo = (from === 2 ? first : second).steps.find((s) => s.step === 'combine-1')!
      assert.ok(atTwo.out < atTwo.in / 2, `combine-1 at parallelism 2: ${atTwo.in} in, ${atTwo.out} out`)
      const atOne = first.steps.find((s) => s.step === 'combine-1')!
      if (from === 1) assert.equal(atOne.out, atOne.in)
    })
  })
}
