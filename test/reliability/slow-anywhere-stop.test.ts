// SIGTERM while a slow user function blocks the thread anywhere in the pipeline: after a fan-out into a join,
// inside a keyed process function (after a keyBy), inside a window's reduce function, in a window's result
// function or a window join's function when the window fires, at parallelism 1 and 2.
// The paused batches let the event loop in, so the drain timeout cancels the job long before the slow
// records could be done (over 100 s of them); a restart gives the output of a run that was never interrupted.
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { sluice, sluiceLive } from '../cli/sluice.ts'

const FIXTURE = 'test/reliability/fixtures/slow-anywhere.ts'

async function lines(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.jsonl'))) out.push(...(await readFile(join(dir, f), 'utf8')).split('\n').filter((l) => l !== ''))
  return out.sort()
}

// A window's firing runs the slow function once per key (`window-result`: a thousand keys), or once per pair of a
// key's window (`window-join`: about 25 pairs for each of 50 keys): one firing, had it no pause, would outlast the
// bound below.
for (const where of ['join', 'process', 'window', 'window-result', 'window-join']) {
  for (const p of [1, 2]) {
    test(`p${p}: SIGTERM during a slow function in a ${where} step ends within a bound; a restart gives the uninterrupted output`, { timeout: 240_000 }, async () => {
      const dir = await mkdtemp(join(tmpdir(), `sluice-slow-${where}-`))
      try {
        // One source partition: every key's records come in one order, so the output does not depend on the parallelism.
        const common = ['run', FIXTURE, '--no-check', '-q', '--parallelism', String(p), '--param', `where=${where}`, '--param', 'every=1024', '--checkpoint-interval', '100ms']
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
    })
  }
}
