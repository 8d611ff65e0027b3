import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { start } from '../../src/index.ts'
import type { JobHandle } from '../../src/runtime/job/types.ts'
import { controlPlane } from '../../src/server/app.ts'
import { AuditLog } from '../../src/server/audit.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import build from './fixtures/late-parallel.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('at parallelism 2 the API sees every thread: both partitions, late samples, watermarks, windows and quality results of each', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-inspect-parallel-'))
  const job = start(build(), { parallelism: 2, module: new URL('./fixtures/late-parallel.ts', import.meta.url).href })
  const tokens = await TokenStore.open(join(dir, 'server'))
  const audit = await AuditLog.open(join(dir, 'server', 'log'))
  const viewer = (await tokens.create('viewer')).token
  const app = controlPlane({ jobs: new Map<string, JobHandle>([['late', job]]), tokens, audit, savepointDir: join(dir, 'savepoints') })
  const get = async <T>(path: string): Promise<T> => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${viewer}` } })
    assert.equal(res.status, 200, path)
    return (await res.json()) as T
  }
  type Late = { step: string; seen: number; samples: { reason: string; record: { k: string } }[] }[]
  type Watermarks = { sources: { step: string; partitions: { partition: number }[] }[]; steps: { step: string }[] }
  try {
    // Each worker thread reports about once a second: wait until both threads' subtasks have diverted late records.
    const lateOnBoth = () => job.metrics().subtasks.filter((s) => s.step === 'counts' && s.late > 0).length === 2
    while (job.status().status !== 'running' || !lateOnBoth()) {
      assert.ok(!['failed', 'finished', 'cancelled', 'stopped'].includes(job.status().status), `the job ended: ${job.status().status}`)
      await sleep(100)
    }
    await sleep(1500)

    const wm = await get<Watermarks>('/api/jobs/late/watermarks')
    assert.deepEqual(wm.sources.map((s) => [s.step, s.partitions.map((p) => p.partition)]), [['read', [0, 1]]])
    const steps = wm.steps.map((s) => s.step)
    assert.equal(new Set(steps).size, steps.length, 'each step once, merged over its subtasks')

    // The late records the API counts are those of both subtasks, as the metrics count them (both read in one turn).
    const i = job.inspect()
    const counts = i.lateSamples().find((l) => l.step === 'counts')!
    const reported = job.metrics().steps.find((s) => s.step === 'counts')!.late
    assert.ok(counts.seen > job.metrics().subtasks.find((s) => s.step === 'counts' && s.subtask === 0)!.late, 'more late records than thread 0 alone diverted')
    assert.ok(counts.seen <= reported)
    const late = await get<Late>('/api/jobs/late/late')
    assert.deepEqual(late.map((l) => l.step), ['counts'])
    assert.ok(late[0]!.samples.length > 0 && late[0]!.samples.length <= 16)
    assert.equal(late[0]!.samples[0]!.reason, 'window-closed')

    // Every key's open window is found, whichever thread holds the key.
    const now = Date.now()
    for (let k = 0; k < 16; k++) {
      const e = await get<{ keyFound: boolean; windows: unknown[] }>(`/api/jobs/late/explain?step=counts&key=k${k}&time=${now}`)
      assert.equal(e.keyFound, true, `key k${k}`)
    }

    // The expect step's results reach the API (it runs as one subtask; any worker's results would come with its reports).
    let quality = await get<{ windows: number }[]>('/api/jobs/late/quality')
    while (quality.length === 0 || quality[0]!.windows === 0) {
      await sleep(200)
      quality = await get('/api/jobs/late/quality')
    }
  } finally {
    const summary = await job.stop()
    assert.equal(summary.status, 'stopped')
    await audit.close()
    await rm(dir, { recursive: true, force: true })
  }
  assert.deepEqual(job.inspect().sources(), [])
  assert.equal(await job.inspect().window('counts', 'k0', Date.now()), undefined)
})
