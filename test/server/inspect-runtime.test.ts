import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { agg, pipeline, sink, source, start, watermark, window } from '../../src/index.ts'
import { listDeadLetters } from '../../src/server/dead-letters.ts'
import { explainWindow } from '../../src/server/explain.ts'

test('a running job hands the control plane its open dead-letter log, late samples, partition watermarks and window state', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-inspect-'))
  const p = pipeline('paced', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'log') } })
  p.from(
    source.generator({
      make: (g) => ({ n: g.seq, k: g.seq % 2 === 0 ? 'a' : 'b', ts: Date.now() - (g.seq % 5 === 4 ? 60_000 : 0) }),
      ratePerSecond: 200,
      partitions: 2,
      eventTime: (r) => r.ts,
      watermark: watermark.boundedOutOfOrder('1s'),
    }),
  )
    .map((r) => {
      if (r.n % 7 === 6) throw new Error('seven')
      return r
    })
    .keyBy((r) => r.k)
    .window(window.tumbling({ size: '5s' }))
    .aggregate(agg.count())
    .id('counts')
    .to(sink.blackhole())
  // Under checkpoints letters become visible as each checkpoint commits them.
  const job = start(p, { checkpoint: { dir: join(dir, 'cp'), intervalMs: 200 } })
  try {
    const i = () => job.inspect()
    while (i().lateSamples().length === 0 || i().deadLetters() === undefined) await new Promise((r) => setTimeout(r, 50))
    const late = i().lateSamples()
    assert.equal(late[0]!.step, 'counts')
    assert.ok(late[0]!.samples.length > 0 && late[0]!.samples.length <= 16)
    assert.equal((late[0]!.samples[0]!.late as { reason: string }).reason, 'window-closed')
    assert.deepEqual(i().sources().map((s) => s.partitions.map((x) => x.partition)), [[0, 1]])
    const dl = i().deadLetters()!
    let letters = await listDeadLetters(dl.log, dl.topic, { from: 0, limit: 10, personal: [] })
    while (letters.letters.length === 0) {
      await new Promise((r) => setTimeout(r, 50))
      letters = await listDeadLetters(dl.log, dl.topic, { from: 0, limit: 10, personal: [] })
    }
    assert.equal(letters.letters[0]!.error.message, 'seven')
    const e = (await explainWindow(i(), 'counts', 'a', Date.now() + 30_000, Date.now()))!
    assert.equal(e.windows.length, 1)
    assert.equal(e.windows[0]!.end - e.windows[0]!.start, 5000)
    assert.match(e.verdict, /^not fired/)
    assert.equal(await explainWindow(i(), 'nope', 'a', 0, 0), undefined)
  } finally {
    await job.stop()
    await rm(dir, { recursive: true, force: true })
  }
  // Once the job has ended, the views are empty (the log is closed).
  assert.equal(job.inspect().deadLetters(), undefined)
  assert.deepEqual(job.inspect().sources(), [])
})
