import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { outputs, prng, runChild, SINKS } from './crash.ts'

// End-to-end exactly-once: the pipeline runs as a child process and is killed with SIGKILL at random
// moments (and at chosen points inside checkpoints and sink commits), then restarted from its checkpoint
// folder until it finishes. Every sink's committed output must equal an uninterrupted run's.

const SEEDS = (process.env.SLUICE_CRASH_SEEDS ?? '1,2,3').split(',').map(Number)
const MAX_KILLS = 6

const references = new Map<boolean, Record<string, string[]>>()
async function referenceOutput(dlq = false): Promise<Record<string, string[]>> {
  const known = references.get(dlq)
  if (known !== undefined) return known
  const base = await mkdtemp(join(tmpdir(), 'sluice-crash-ref-'))
  let reference: Record<string, string[]>
  try {
    const r = await runChild(join(base, 'out'), join(base, 'chk'), { dlq })
    assert.equal(r.code, 0, r.stderr)
    reference = await outputs(join(base, 'out'))
  } finally {
    await rm(base, { recursive: true, force: true })
  }
  for (const s of SINKS) assert.ok(reference[s].length > 0 || s === 'late' || (dlq && s === 'errors'), `the reference run wrote nothing to '${s}'`)
  if (dlq) assert.ok((reference.deadLetters ?? []).length > 0, 'the reference run wrote no dead letters')
  references.set(dlq, reference)
  return reference
}

async function runUntilDone(out: string, chk: string, first: { killAfterMs?: number; failpoint?: string; dlq?: boolean }, nextKill: () => number | undefined): Promise<number> {
  let kills = 0
  let opts = first
  for (;;) {
    const r = await runChild(out, chk, opts)
    if (r.code === 0) return kills
    assert.equal(r.signal, 'SIGKILL', `the child failed instead of being killed: ${r.stderr}`)
    kills++
    const k = nextKill()
    opts = { ...(k === undefined ? {} : { killAfterMs: k }), ...(first.dlq === true ? { dlq: true } : {}) }
  }
}

for (const seed of SEEDS) {
  test(`killed at random moments (seed ${seed}), the restarted pipeline's output equals an uninterrupted run`, async () => {
    const expected = await referenceOutput()
    const base = await mkdtemp(join(tmpdir(), `sluice-crash-${seed}-`))
    try {
      const rnd = prng(seed)
      let left = MAX_KILLS
      const nextKill = () => (left-- > 0 ? 80 + Math.floor(rnd() * 900) : undefined)
      const kills = await runUntilDone(join(base, 'out'), join(base, 'chk'), { killAfterMs: nextKill() }, nextKill)
      assert.ok(kills >= 1, 'the child was never killed: the run was too short for this test')
      assert.deepEqual(await outputs(join(base, 'out')), expected)
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
}

// Early passes (a run takes over a second and checkpoints every 60 ms, with a last one at the end), so each
// point is reached even on a slow machine.
for (const failpoint of ['checkpoint-before-rename:2', 'checkpoint-before-commit:2', 'sink-commit:4', 'checkpoint-after-commit:1']) {
  test(`killed at '${failpoint}', the restarted pipeline's output equals an uninterrupted run`, async () => {
    const expected = await referenceOutput()
    const base = await mkdtemp(join(tmpdir(), 'sluice-crash-fp-'))
    try {
      const kills = await runUntilDone(join(base, 'out'), join(base, 'chk'), { failpoint }, () => undefined)
      assert.equal(kills, 1)
      assert.deepEqual(await outputs(join(base, 'out')), expected)
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
}

for (const [name, first] of [
  ['random kills', { killAfterMs: 300 }],
  ['a kill between the manifest and the commits', { failpoint: 'checkpoint-before-commit:1' }],
] as const) {
  test(`dead letters: ${name} neither lose nor duplicate a letter`, async () => {
    const expected = await referenceOutput(true)
    const base = await mkdtemp(join(tmpdir(), 'sluice-crash-dlq-'))
    try {
      const rnd = prng(11)
      let left = 3
      const nextKill = () => (left-- > 0 ? 150 + Math.floor(rnd() * 700) : undefined)
      const kills = await runUntilDone(join(base, 'out'), join(base, 'chk'), { ...first, dlq: true }, nextKill)
      assert.ok(kills >= 1)
      assert.deepEqual(await outputs(join(base, 'out')), expected)
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
}
