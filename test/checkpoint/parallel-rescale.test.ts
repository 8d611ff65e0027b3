import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, SluiceError, type RunSummary } from '../../src/index.ts'
import { committedParts } from '../../src/connectors/files/part-files.ts'
import build, { control } from '../parallel/fixtures/checkpointed.ts'

const module = new URL('../parallel/fixtures/checkpointed.ts', import.meta.url).href

async function withTemp<R>(fn: (dir: string) => Promise<R>): Promise<R> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-pcp-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Every committed line of the sink's folder, sorted. */
async function output(dir: string): Promise<string[]> {
  const lines: string[] = []
  for (const f of await committedParts(dir)) for (const l of (await readFile(f, 'utf8')).split('\n')) if (l !== '') lines.push(l)
  return lines.sort()
}

const warnings: string[] = []

async function runIt(given: Record<string, string>, parallelism: number, checkpoint: { dir: string; intervalMs: number; restoreFrom?: string; allowDroppedState?: boolean }, stopAt = -1): Promise<RunSummary> {
  control.stop = new AbortController()
  control.stopAt = stopAt
  warnings.length = 0
  // Periodic checkpoints come every 4,000 records (and a batch) at most, so a run stopped at record 12,000 has taken several
  // however fast the machine reads. Workers learn where to stop from the parameters (the record may be read on any thread).
  const params = { ...(checkpoint.intervalMs > 0 ? { ...given, every: '4000' } : given), stopAt: String(stopAt) }
  const p = build({ params })
  return run(p, { parallelism, module, params, signal: control.stop.signal, checkpoint: { ...checkpoint, warn: (m) => warnings.push(m) } })
}

/** A straight run at parallelism 1: the expected output. */
async function expected(tmp: string, params: Record<string, string> = {}): Promise<string[]> {
  const out = join(tmp, 'expected')
  const s = await runIt({ ...params, out }, 1, { dir: join(tmp, 'chk-expected'), intervalMs: 0 })
  assert.equal(s.status, 'finished')
  return output(out)
}

for (const [from, to] of [
  [2, 3],
  [2, 1],
  [1, 4],
] as const) {
  test(`a run stopped at parallelism ${from} after checkpoints resumes at parallelism ${to}: the committed output is that of one straight run`, async () => {
    await withTemp(async (tmp) => {
      const want = await expected(tmp)
      assert.ok(want.length > 1000)
      const out = join(tmp, 'out')
      const dir = join(tmp, 'chk')
      const first = await runIt({ out }, from, { dir, intervalMs: 1 }, 12_000)
      assert.equal(first.status, 'stopped')
      assert.ok(first.checkpoints !== undefined && first.checkpoints.completed >= 2, `checkpoints: ${JSON.stringify(first.checkpoints)}`)
      assert.equal(first.checkpoints.failed, 0)
      const part = await output(out)
      assert.ok(part.length > 0 && part.length < want.length, `the first run committed ${part.length} of ${want.length}`)
      const second = await runIt({ out }, to, { dir, intervalMs: 1 })
      assert.equal(second.status, 'finished')
      assert.equal(second.checkpoints?.restoredFrom, first.checkpoints.last?.id)
      assert.equal(second.recordsIn, 30_000)
      assert.deepEqual(await output(out), want)
    })
  })
}

test('restoring a pipeline whose window changed fails with SLUICE_CHECKPOINT_MISMATCH naming the step, unless its state may be dropped', async () => {
  await withTemp(async (tmp) => {
    const out = join(tmp, 'out')
    const dir = join(tmp, 'chk')
    const first = await runIt({ out }, 2, { dir, intervalMs: 0 }, 8_000)
    assert.equal(first.status, 'stopped')
    await assert.rejects(runIt({ out, window: '20s' }, 3, { dir, intervalMs: 0 }), (e: unknown) => {
      assert.ok(e instanceof SluiceError)
      assert.equal(e.code, 'SLUICE_CHECKPOINT_MISMATCH')
      assert.match(e.message, /step 'counts' \(window-aggregate\) changed its configuration/)
      return true
    })
    const second = await runIt({ out, window: '20s' }, 3, { dir, intervalMs: 0, allowDroppedState: true })
    assert.equal(second.status, 'finished')
    assert.equal(second.checkpoints?.restoredFrom, first.checkpoints?.last?.id)
    assert.ok(warnings.some((w) => w.includes("dropping saved state: step 'counts'")), warnings.join('\n'))
    // The source resumed where it stopped; only the window state was dropped.
    assert.equal(second.recordsIn, 30_000)
  })
})

test('a savepoint requested with stop ends a parallel run; restored from it at another parallelism the output is that of one straight run', async () => {
  await withTemp(async (tmp) => {
    const want = await expected(tmp)
    const out = join(tmp, 'out')
    const dir = join(tmp, 'chk')
    const savepoint = join(tmp, 'savepoints', 'sp-1')
    await mkdir(join(dir, 'control'), { recursive: true })
    await writeFile(join(dir, 'control', 'a.request'), JSON.stringify({ target: savepoint, stop: true }))
    // Paced: past 4,000 records the source waits for the savepoint, so the run cannot end before the request
    // is read, however fast the machine (or a warm worker) is.
    const first = await runIt({ out, every: '4000' }, 2, { dir, intervalMs: 0 })
    assert.equal(first.status, 'stopped')
    const done = JSON.parse(await readFile(join(dir, 'control', 'a.done'), 'utf8')) as { id: number; target: string; bytes: number }
    assert.equal(done.target, savepoint)
    assert.ok(done.bytes > 0)
    assert.ok((await readdir(savepoint)).includes('manifest.json'))
    const manifest = JSON.parse(await readFile(join(savepoint, 'manifest.json'), 'utf8')) as { kind: string; parallelism: number; operators: { step: string; files: { file: string }[] }[] }
    assert.equal(manifest.kind, 'savepoint')
    assert.equal(manifest.parallelism, 2)
    assert.deepEqual(manifest.operators.find((o) => o.step === 'counts')?.files.map((f) => f.file), ['counts.0.0.state', 'counts.1.0.state'])
    const second = await runIt({ out }, 3, { dir: join(tmp, 'chk-2'), intervalMs: 0, restoreFrom: savepoint })
    assert.equal(second.status, 'finished')
    assert.equal(second.checkpoints?.restoredFrom, done.id)
    assert.deepEqual(await output(out), want)
  })
})

test('two keyed stages, errors() and three sinks: stopped at parallelism 3, resumed at 2, the same output as one straight run', async () => {
  const fixture = await import('../parallel/fixtures/checkpointed-two-stages.ts')
  const twoStages = new URL('../parallel/fixtures/checkpointed-two-stages.ts', import.meta.url).href
  const go = (out: string, parallelism: number, dir: string, intervalMs: number, stopAt = -1) => {
    fixture.control.stop = new AbortController()
    fixture.control.stopAt = stopAt
    const params: Record<string, string> = { ...(intervalMs > 0 ? { out, every: '8000' } : { out }), stopAt: String(stopAt) }
    return run(fixture.default({ params }), { parallelism, module: twoStages, params, signal: fixture.control.stop.signal, checkpoint: { dir, intervalMs, warn: () => {} } })
  }
  const all = async (out: string) => ({ perUser: await output(join(out, 'per-user')), perBucket: await output(join(out, 'per-bucket')), errors: await output(join(out, 'errors')) })
  await withTemp(async (tmp) => {
    const straight = await go(join(tmp, 'expected'), 1, join(tmp, 'chk-expected'), 0)
    assert.equal(straight.status, 'finished')
    const want = await all(join(tmp, 'expected'))
    assert.ok(want.errors.length > 0 && want.perBucket.length > 0)
    const out = join(tmp, 'out')
    const dir = join(tmp, 'chk')
    const first = await go(out, 3, dir, 1, 25_000)
    assert.equal(first.status, 'stopped')
    assert.ok((first.checkpoints?.completed ?? 0) >= 2)
    const second = await go(out, 2, dir, 1)
    assert.equal(second.status, 'finished')
    assert.deepEqual(await all(out), want)
    assert.equal(second.errors, straight.errors)
    // At parallelism 2 the combiners fold records into partials (at 1 they hand them on): what they send and
    // what their aggregates take differs; every other count is that of the straight run.
    const counts = (s: RunSummary) => s.steps.map((m, i) => (m.kind === 'combine' ? [m.step, m.in] : s.steps[i - 1]?.kind === 'combine' ? [m.step, m.out] : [m.step, m.in, m.out]))
    assert.deepEqual(counts(second), counts(straight))
  })
})
