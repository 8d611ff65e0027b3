// What the SIGTERM drain tests share: a reference run of a fixture, then a run sent SIGTERM once its slow
// function starts (the fixture prints 'slow from here'), which must end within a bound through the drain
// timeout, and a restart from its checkpoints whose output must equal the reference run's.
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sluice, sluiceLive } from '../cli/sluice.ts'

async function lines(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.jsonl'))) out.push(...(await readFile(join(dir, f), 'utf8')).split('\n').filter((l) => l !== ''))
  return out.sort()
}

/** Runs `fixture` at parallelism `p` with `params` (`--param k=v` pairs) as described above. */
export async function sigtermDrainAndResume(fixture: string, p: number, params: string[], name: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `sluice-${name}-`))
  try {
    const common = ['run', fixture, '--no-check', '-q', '--parallelism', String(p), ...params.flatMap((kv) => ['--param', kv]), '--param', 'every=1024', '--checkpoint-interval', '100ms']
    const ref = sluice([...common, '--param', `out=${join(dir, 'ref')}`, '--checkpoint-dir', join(dir, 'ck-ref')], { timeoutMs: 120_000 })
    assert.equal(ref.code, 0, ref.stderr)

    const run = [...common, '--param', `out=${join(dir, 'out')}`, '--checkpoint-dir', join(dir, 'ck')]
    let sentAt = 0
    const r = await sluiceLive([...run, '--param', 'slowMs=100', '--drain-timeout', '1s'], (out, signal) => {
      if (sentAt === 0 && out.stdout.includes('slow from here')) {
        sentAt = performance.now()
        signal('SIGTERM')
      }
    })
    const took = performance.now() - sentAt
    assert.ok(sentAt > 0, r.stderr)
    assert.equal(r.code, 143, r.stderr)
    // The slow records alone would take over 100 s; the margin is for a busy machine.
    assert.ok(took < 30_000, `the run took ${Math.round(took)} ms to end after SIGTERM`)
    assert.match(r.stderr, /forced exit: the drain took longer than --drain-timeout; the run stopped (without a final checkpoint: a restart with the same --checkpoint-dir resumes from checkpoint \d+|before its first checkpoint)/)
    assert.doesNotMatch(r.stderr, /SLUICE_JOB_CANCELLED|SLUICE_INTERNAL/)

    const again = sluice(run, { timeoutMs: 120_000 })
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(await lines(join(dir, 'out')), await lines(join(dir, 'ref')))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
