// Consumer lag of sources that know it: the log (end offset minus position, per partition) and files read once
// (bytes left); the executor publishes it with the other gauges.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pipeline, sink, source, start } from '../../src/index.ts'
import type { SourceReader } from '../../src/core/source.ts'
import { context } from '../../src/connectors/resume-support.ts'
import { acquireLog } from '../../src/connectors/log/shared-log.ts'

const quiet = { warn: () => {}, info: () => {} } as never

test('the log source lags by the records appended and not yet read, per partition', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-lag-'))
  const ref = await acquireLog(dir, quiet)
  await ref.log.createTopic('t', { partitions: 2 })
  await ref.log.append('t', 0, Array.from({ length: 100 }, (_, i) => ({ value: String(i) })))
  await ref.log.append('t', 1, Array.from({ length: 10 }, (_, i) => ({ value: String(i) })))
  const reader = (await source.log<number>(dir, 't', { log: quiet }).open(context())) as SourceReader<number>
  t.after(async () => {
    await reader.close()
    await ref.release()
    await rm(dir, { recursive: true, force: true })
  })
  assert.deepEqual([reader.lag!(0), reader.lag!(1)], [100, 10])
  const b = await reader.read(0, 30)
  assert.equal((b as { values: number[] }).values.length, 30)
  assert.deepEqual([reader.lag!(0), reader.lag!(1)], [70, 10])
  await ref.log.append('t', 1, [{ value: '10' }])
  assert.equal(reader.lag!(1), 11)
  assert.equal(reader.lagUnit ?? 'records', 'records')
})

test('a file read once lags by the bytes left', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-lag-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'in.jsonl')
  const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ n: i })).join('\n') + '\n'
  await writeFile(path, lines)
  const reader = (await source.jsonl<{ n: number }>(path).open(context())) as SourceReader<{ n: number }>
  t.after(() => reader.close())
  assert.equal(reader.lagUnit, 'bytes')
  assert.equal(reader.lag!(0), Buffer.byteLength(lines))
  let r = await reader.read(0, 1000)
  while (r !== null && typeof r === 'object' && r.values.length > 0 && reader.lag!(0) > 0) r = await reader.read(0, 1000)
  assert.equal(reader.lag!(0), 0)
})

test('a running job publishes its sources\' consumer lag with the other gauges', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-lag-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'in.jsonl')
  await writeFile(path, '{"n":1}\n{"n":2}\n')
  const p = pipeline('lag')
  p.from(source.jsonl<{ n: number }>(path)).id('in').to(sink.blackhole())
  const job = start(p)
  await job.done
  assert.deepEqual(job.metrics().subtasks.find((x) => x.step === 'in')!.consumerLag, { unit: 'bytes', partitions: [0], lag: [0] })
})
