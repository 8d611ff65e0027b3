import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline, run, sink, source, SluiceError } from '../../src/index.ts'

test('a sink that cannot open fails the run with the step named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-sink-open-'))
  try {
    const blocker = join(dir, 'a-file')
    await writeFile(blocker, '')
    const p = pipeline('sink-open')
    p.from(source.collection([1, 2])).to(sink.jsonl(join(blocker, 'out.jsonl')))
    await assert.rejects(run(p), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SINK_OPEN_FAILED' && e.step === 'sink-jsonl-1' && e.domain === 'external')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
