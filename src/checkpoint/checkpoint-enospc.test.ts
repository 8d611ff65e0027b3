import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agg, pipeline, run, sink, source, SluiceError } from '../index.ts'
import { errno, withFault } from './fs-faults.ts'

// A full disk while a checkpoint's state files are streamed out (synchronously, inside the checkpoint) is a
// failed checkpoint, tolerated up to `tolerableFailures` in a row: never SLUICE_INTERNAL.

function counts() {
  const p = pipeline('enospc')
  p.from(source.generator({ count: 2000, make: (g) => ({ k: g.int(50) }) }))
    .keyBy((e) => e.k)
    .aggregate(agg.count())
    .to(sink.blackhole())
  return p
}

const full = () => {
  throw errno('ENOSPC')
}

test('a full disk during a checkpoint is a failed checkpoint; the run goes on while failures are tolerated', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-enospc-'))
  try {
    const warnings: string[] = []
    const s = await withFault('node:fs', 'writeSync', full, () => run(counts(), { checkpoint: { dir, intervalMs: 0, warn: (m) => warnings.push(m) } }))
    assert.equal(s.status, 'finished')
    assert.equal(s.checkpoints?.failed, 1)
    assert.equal(s.checkpoints?.completed, 0)
    assert.match(warnings.join('\n'), /checkpoint 1 .* failed: .*ENOSPC/)
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('chk-') && !n.endsWith('.tmp')), [])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('more failed checkpoints in a row than tolerated fail the job as external, retryable: not SLUICE_INTERNAL', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-enospc-'))
  try {
    await assert.rejects(
      withFault('node:fs', 'writeSync', full, () => run(counts(), { checkpoint: { dir, intervalMs: 0, tolerableFailures: 0, warn: () => {} } })),
      (e: unknown) => {
        assert.ok(e instanceof SluiceError)
        assert.equal(e.code, 'SLUICE_CHECKPOINT_FAILED')
        assert.equal(e.domain, 'external')
        assert.ok(e.cause instanceof SluiceError && e.cause.code === 'SLUICE_CHECKPOINT_WRITE_FAILED' && e.cause.retryable)
        return true
      },
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
