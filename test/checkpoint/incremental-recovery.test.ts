import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Manifest } from '../../src/checkpoint/manifest.ts'
import { outputs, prng, runChild } from './crash.ts'

// Exactly-once with incremental checkpoints: a pipeline with a regular join, keyed aggregates and a keyed
// process function (whose deltas on the durable store hold the cells it changed) checkpoints
// at least every 2,400 records, its source paced by checkpoints so that their number does not depend on the
// machine's speed (a full checkpoint, then deltas that list the files they build on, a full one again after
// three deltas). Killed with SIGKILL at random moments (the source is rate-limited, so the run outlasts the
// first kill on any machine) and at failpoints inside checkpoints, retention and commits, then restarted until
// it finishes, its committed output must equal an uninterrupted run's. The crash cases run again with state in
// the durable store, restored into it from the base and its deltas (both backends give the same output).

const child = fileURLToPath(new URL('./fixtures/run-incremental-child.ts', import.meta.url))
const SINKS = ['joined', 'totals', 'counts', 'processed']
const SEEDS = (process.env.SLUICE_CRASH_SEEDS ?? '1,2').split(',').map(Number)
const COUNT = 30_000
const RATE = 15_000

let reference: Record<string, string[]> | undefined
async function referenceOutput(): Promise<Record<string, string[]>> {
  if (reference !== undefined) return reference
  const base = await mkdtemp(join(tmpdir(), 'sluice-incr-ref-'))
  try {
    const r = await runChild(join(base, 'out'), join(base, 'chk'), { child, count: COUNT, rate: RATE })
    assert.equal(r.code, 0, r.stderr)
    const summary = JSON.parse(r.stdout) as { checkpoints: { completed: number; deltas: number } }
    assert.ok(summary.checkpoints.deltas >= 1, `no incremental checkpoint was taken: ${r.stdout}`)
    reference = await outputs(join(base, 'out'), SINKS)
  } finally {
    await rm(base, { recursive: true, force: true })
  }
  for (const s of SINKS) assert.ok(reference[s].length > 0, `the reference run wrote nothing to '${s}'`)
  return reference
}

/** Where the child keeps its state: as the environment says (the heap unless SLUICE_TEST_STATE), or the durable store. */
type Backend = undefined | 'durable'
const BACKENDS: Backend[] = [undefined, 'durable']
const inBackend = (state: Backend): string => (state === undefined ? '' : ` (${state} state)`)

async function runUntilDone(out: string, chk: string, first: { killAfterMs?: number; failpoint?: string; parallelism?: number; state?: Backend }, nextKill: () => number | undefined, after: { parallelism?: number; state?: Backend } = {}): Promise<number> {
  let kills = 0
  let opts = first
  for (;;) {
    const r = await runChild(out, chk, { ...opts, child, count: COUNT, rate: RATE })
    if (r.code === 0) return kills
    assert.equal(r.signal, 'SIGKILL', `the child failed instead of being killed: ${r.stderr}`)
    kills++
    const k = nextKill()
    opts = { ...(k === undefined ? {} : { killAfterMs: k }), ...after }
  }
}

/** The changelog applied: rows that remain, without `op` (at another parallelism, intermediate updates may differ). */
function table(lines: string[]): string[] {
  const rows = new Map<string, number>()
  for (const l of lines) {
    const { op, ...row } = JSON.parse(l) as { op?: string }
    const key = JSON.stringify(row)
    rows.set(key, (rows.get(key) ?? 0) + (op === '-U' || op === '-D' ? -1 : 1))
  }
  return [...rows].flatMap(([k, n]) => Array.from({ length: Math.max(0, n) }, () => k)).sort()
}

/**
 * Asserts two sorted multisets of lines are equal, naming a few lines missing or extra (a diff of the whole
 * output would take minutes to print).
 */
function assertSameLines(actual: Record<string, string[]>, expected: Record<string, string[]>, how: (lines: string[]) => string[] = (l) => l): void {
  for (const s of SINKS) {
    const count = new Map<string, number>()
    for (const l of how(expected[s])) count.set(l, (count.get(l) ?? 0) + 1)
    for (const l of how(actual[s])) count.set(l, (count.get(l) ?? 0) - 1)
    const missing = [...count].filter(([, n]) => n > 0).map(([l]) => l)
    const extra = [...count].filter(([, n]) => n < 0).map(([l]) => l)
    assert.ok(missing.length === 0 && extra.length === 0, `sink '${s}': ${missing.length} lines missing (${missing.slice(0, 3).join(' ')}), ${extra.length} extra (${extra.slice(0, 3).join(' ')})`)
  }
}

async function withTemp(name: string, fn: (base: string) => Promise<void>): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), `sluice-incr-${name}-`))
  try {
    await fn(base)
  } finally {
    await rm(base, { recursive: true, force: true })
  }
}

// Every seed with the heap; the first with the durable store too.
for (const [seed, state] of [...SEEDS.map((s) => [s, undefined] as const), [SEEDS[0], 'durable'] as const]) {
  test(`incremental checkpoints${inBackend(state)}, killed at random moments (seed ${seed}): the output equals an uninterrupted run`, async () => {
    const expected = await referenceOutput()
    await withTemp(`${seed}`, async (base) => {
      const rnd = prng(seed * 7919)
      let left = 5
      const nextKill = () => (left-- > 0 ? 150 + Math.floor(rnd() * 1500) : undefined)
      const kills = await runUntilDone(join(base, 'out'), join(base, 'chk'), { killAfterMs: nextKill(), state }, nextKill, { state })
      assert.ok(kills >= 1, 'the child was never killed: the run was too short for this test')
      assertSameLines(await outputs(join(base, 'out'), SINKS), expected)
    })
  })
}

// The second checkpoint is a delta of the first (and the third, unless the second outgrew its base);
// 'checkpoint-retain' passes when retention removes a checkpoint that nothing retained builds on.
// With the durable store, a restore used to leave it unable to take the writes of a later checkpoint.
for (const state of BACKENDS) {
  for (const failpoint of ['checkpoint-before-rename:2', 'checkpoint-before-rename:3', 'checkpoint-before-commit:3', 'checkpoint-after-commit:2', 'checkpoint-retain:1']) {
    test(`incremental checkpoints${inBackend(state)}, killed at '${failpoint}': the output equals an uninterrupted run`, async () => {
      const expected = await referenceOutput()
      await withTemp('fp', async (base) => {
        const kills = await runUntilDone(join(base, 'out'), join(base, 'chk'), { failpoint, state }, () => undefined, { state })
        assert.equal(kills, 1)
        assertSameLines(await outputs(join(base, 'out'), SINKS), expected)
      })
    })
  }

  test(`a run killed after incremental checkpoints resumes at parallelism 2 from its base and deltas${inBackend(state)}`, async () => {
    const expected = await referenceOutput()
    await withTemp('rescale', async (base) => {
      const chk = join(base, 'chk')
      const kills = await runUntilDone(join(base, 'out'), chk, { failpoint: 'checkpoint-after-commit:2', state }, () => undefined, { parallelism: 2, state })
      assert.equal(kills, 1)
      assertSameLines(await outputs(join(base, 'out'), SINKS), expected, table)
    })
  })
}

test('a run at parallelism 2 with durable state, killed before a commit, restarts at parallelism 2: the output equals an uninterrupted run', async () => {
  const expected = await referenceOutput()
  await withTemp('p2', async (base) => {
    const kills = await runUntilDone(join(base, 'out'), join(base, 'chk'), { failpoint: 'checkpoint-before-commit:3', parallelism: 2, state: 'durable' }, () => undefined, { parallelism: 2, state: 'durable' })
    assert.equal(kills, 1)
    assertSameLines(await outputs(join(base, 'out'), SINKS), expected, table)
  })
})

test('retained checkpoints are readable chains: each delta lists its base and earlier deltas in folders that are kept', async () => {
  await withTemp('chain', async (base) => {
    const chk = join(base, 'chk')
    const r = await runChild(join(base, 'out'), chk, { child, count: COUNT, rate: RATE })
    assert.equal(r.code, 0, r.stderr)
    const folders = (await readdir(chk)).filter((n) => n.startsWith('chk-')).sort()
    for (const f of folders) {
      const m = JSON.parse(await readFile(join(chk, f, 'manifest.json'), 'utf8')) as Manifest
      for (const op of m.operators) {
        const deltas = op.files.filter((x) => x.delta === true)
        assert.ok(deltas.length <= 3, `checkpoint ${m.id}, step '${op.step}': ${deltas.length} deltas, more than maxDeltas`)
        if (deltas.length > 0) assert.ok(op.files[0].delta !== true, `checkpoint ${m.id}, step '${op.step}': deltas without a base`)
        for (const x of op.files) if (x.checkpoint !== undefined) assert.ok(folders.includes(`chk-${String(x.checkpoint).padStart(8, '0')}`), `checkpoint ${m.id} lists a file of checkpoint ${x.checkpoint}, which retention removed`)
      }
    }
  })
})
