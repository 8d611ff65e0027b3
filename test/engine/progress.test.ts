// The progress figures a run reports: how far a bounded file source has read, and on a resumed run what was
// read in this run against the total.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline, run, sink, source, type Progress } from '../../src/index.ts'

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `{"n":${from + i},"ts":${(from + i) * 1000}}\n`).join('')

async function runOnce(file: string, chk: string): Promise<Progress[]> {
  const seen: Progress[] = []
  const p = pipeline('progress', { batchSize: 50 })
  p.from(source.jsonl<{ n: number; ts: number }>(file, { eventTime: (e) => e.ts })).to(sink.collect())
  await run(p, { onProgress: (pr) => seen.push(structuredClone(pr)), progressIntervalMs: 0, checkpoint: { dir: chk, intervalMs: 0 } })
  return seen
}

test('a bounded file source reports bytes done of its size; a resumed run counts this run apart from the total', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-progress-'))
  try {
    const file = join(dir, 'in.jsonl')
    const chk = join(dir, 'chk')
    writeFileSync(file, lines(0, 1000))
    const size1 = statSync(file).size

    const first = await runOnce(file, chk)
    assert.ok(first.length > 0)
    for (const pr of first) {
      assert.equal(pr.recordsThisRun, pr.recordsIn)
      assert.deepEqual({ total: pr.input!.total, before: pr.input!.before }, { total: size1, before: 0 })
      assert.ok(pr.input!.done <= size1)
    }
    const dones = first.map((pr) => pr.input!.done)
    assert.deepEqual(dones, [...dones].sort((a, b) => a - b), 'done never goes back')

    // The run ended with a checkpoint at the file's end; the next run resumes there and reads what was appended.
    appendFileSync(file, lines(1000, 500))
    const size2 = statSync(file).size
    const second = await runOnce(file, chk)
    const last = second.at(-1)!
    assert.ok(second.every((pr) => pr.input!.total === size2 && pr.input!.before === size1))
    assert.ok(second.every((pr) => pr.recordsIn === 1000 + pr.recordsThisRun))
    assert.ok(last.recordsThisRun <= 500)
    assert.ok(last.input!.done >= size1 && last.input!.done <= size2)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("a file source's reader tells how many bytes of each file it has read, and follows nothing it cannot measure", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-progress-'))
  try {
    const file = join(dir, 'in.jsonl')
    writeFileSync(file, lines(0, 100))
    const size = statSync(file).size
    const ctx = { pipeline: 'p', stepId: 's', signal: new AbortController().signal, malformed: () => {} }
    const reader = await source.jsonl(file, { chunkSize: 256 }).open(ctx)
    assert.deepEqual(reader.progress!(0), { done: 0, total: size })
    const seen: number[] = []
    let got = 0
    for (;;) {
      const r = await reader.read(0, 10)
      if (typeof r === 'symbol') break
      got += r === null ? 0 : r.values.length
      seen.push(reader.progress!(0).done)
    }
    assert.equal(got, 100)
    assert.equal(seen.at(-1), size)
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b))
    assert.ok(seen.some((d) => d > 0 && d < size))
    await reader.close()
    const followed = await source.jsonl(file, { follow: true }).open(ctx)
    assert.equal(followed.progress, undefined)
    await followed.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
