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

test("what a sink says when it opens (ctx.warn) is among the run's warnings, once", async () => {
  const said = "sink 'quiet-1': a slower path was taken"
  const written: number[] = []
  const p = pipeline('sink-warn')
  p.from(source.collection([1, 2, 3])).to({
    kind: 'warning',
    guarantee: 'none',
    describe: () => ({ kind: 'warning' }),
    open: async (ctx) => {
      ctx.warn?.(said)
      ctx.warn?.(said)
      return { write: (b) => void written.push(...(b.values as number[])), close: () => {} }
    },
  } as Parameters<ReturnType<typeof p.from>['to']>[0])
  const summary = await run(p)
  assert.deepEqual(written, [1, 2, 3])
  assert.deepEqual(summary.warnings, [said])
})
