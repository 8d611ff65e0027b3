import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { SluiceError, pipeline, sink, source as sources, start, type JobEvent, type JobHandle, type MetricsSnapshot } from '../../src/index.ts'
import { errno, withFault } from '../../src/checkpoint/fs-faults.ts'
import { committedParts } from '../../src/connectors/files/part-files.ts'
import build, { PARTITIONS, gate, resetGate, stall } from './fixtures/gated.ts'

// A job started with start() and driven through its handle, at parallelism 1 and 2. The source reads only as
// far as the test opens its gate, so what the figures must show is known; nothing depends on how fast the
// machine is: the test waits (with a generous deadline) until the figures say what they must.

const module = new URL('./fixtures/gated.ts', import.meta.url).href

const started: JobHandle[] = []

function startGated(params: Record<string, string>, opts: Parameters<typeof start>[1] = {}): JobHandle {
  resetGate()
  const job = start(build({ params }), { module, params, ...opts })
  started.push(job)
  return job
}

// A test that failed half way leaves no job running behind it.
afterEach(async () => {
  for (const job of started.splice(0)) await job.cancel().catch(() => {})
})

/** Waits until `check` holds for a snapshot of the job's metrics; fails with the last snapshot after 60 s. */
async function until(job: JobHandle, what: string, check: (s: MetricsSnapshot) => boolean): Promise<MetricsSnapshot> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const s = job.metrics()
    if (check(s)) return s
    if (Date.now() > deadline) assert.fail(`${what}: not reached; last snapshot ${JSON.stringify(s.steps)}`)
    await sleep(20)
  }
}

const step = (s: MetricsSnapshot, id: string) => s.steps.find((t) => t.step === id)!
const source = (s: MetricsSnapshot) => s.steps.find((t) => t.kind.startsWith('source-'))!

async function lines(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const f of await committedParts(dir)) out.push(...(await readFile(f, 'utf8')).split('\n').filter(Boolean))
  return out.sort()
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-job-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

for (const parallelism of [1, 2]) {
  test(`parallelism ${parallelism}: the metrics snapshot of a running job follows its input, per step and subtask`, () =>
    withDir(async (dir) => {
      const job = startGated({ out: join(dir, 'out') }, { parallelism })
      gate(300)
      let s = await until(job, 'first records counted', (x) => source(x).recordsIn === 300 * PARTITIONS)
      assert.equal(job.status().status, 'running')
      assert.equal(source(s).subtasks, parallelism)
      assert.deepEqual(
        s.subtasks.filter((x) => x.step === source(s).step).map((x) => x.recordsIn),
        parallelism === 1 ? [300 * PARTITIONS] : [300, 300],
      )
      // Event time 100 ms per record: the watermark is just below the last record read on every partition.
      assert.equal(source(s).watermark, 299 * 100 - 1)
      // The window's combiner takes every record (at parallelism 2 the window then takes its partials).
      s = await until(job, 'keyed state counted', (x) => step(x, 'counts').stateKeys > 0 && step(x, 'combine-1').recordsIn === 300 * PARTITIONS && step(x, 'counts').recordsIn === step(x, 'combine-1').recordsOut)
      const first = step(s, 'counts').recordsOut
      gate(900)
      s = await until(job, 'more records counted', (x) => source(x).recordsIn === 900 * PARTITIONS && step(x, 'combine-1').recordsIn === 900 * PARTITIONS && step(x, 'counts').recordsIn === step(x, 'combine-1').recordsOut)
      assert.equal(job.status().status, 'running')
      assert.ok(step(s, 'counts').recordsOut > first, 'windows fired as the watermark moved')
      assert.equal(source(s).watermark, 899 * 100 - 1)
      assert.ok(Number.isFinite(source(s).inputLagMs))
      gate(900, true)
      const summary = await job.done
      assert.equal(summary.status, 'finished')
      assert.equal(summary.recordsIn, 900 * PARTITIONS)
      // The summary is a view of the same figures.
      const end = job.metrics()
      assert.deepEqual(summary.steps.map((r) => r.in), end.steps.map((t) => t.recordsIn))
      assert.ok(step(end, 'sink-jsonl-1').bytesOut > 0, 'the part-file sink counts the bytes it wrote')
    }))
}

test('every event kind is reported: status, restored, checkpoint completed and failed, stop, error', () =>
  withDir(async (dir) => {
    const chk = join(dir, 'chk')
    const sp = join(dir, 'sp')
    const events: JobEvent[] = []
    let job = startGated({ out: join(dir, 'out') }, { checkpoint: { dir: chk, intervalMs: 0, warn: () => {} } })
    job.on((e) => events.push(e))
    gate(200)
    await until(job, 'records read', (x) => source(x).recordsIn === 200 * PARTITIONS)
    const stats = await job.checkpoint()
    assert.equal(stats.id, 1)
    // A checkpoint whose manifest cannot be written fails, is reported, and the job goes on.
    const failed = await withFault('node:fs/promises', 'rename', () => Promise.reject(errno('EIO')), () => job.checkpoint().then(() => undefined, (e: unknown) => e))
    assert.ok(failed instanceof SluiceError)
    assert.equal(job.status().status, 'running')
    const saved = await job.savepoint(sp, { stop: true })
    const summary = await job.done
    assert.equal(summary.status, 'stopped')
    assert.equal(summary.checkpoints?.completed, 2)
    assert.equal(summary.checkpoints?.failed, 1)
    const kinds = events.map((e) => (e.type === 'status' ? `status:${e.status}` : e.type === 'stop' ? `stop:${e.reason}` : e.type))
    assert.deepEqual(kinds, ['status:running', 'checkpoint-completed', 'checkpoint-failed', 'stop:savepoint', 'status:stopping', 'checkpoint-completed', 'status:stopped'])
    const done = events.filter((e) => e.type === 'checkpoint-completed')
    assert.deepEqual(done.map((e) => e.savepoint), [undefined, sp])
    assert.equal(done[1].stats.id, saved.id)
    assert.equal(events.find((e) => e.type === 'checkpoint-failed')?.type === 'checkpoint-failed' && /EIO/.test((events.find((e) => e.type === 'checkpoint-failed') as { error: string }).error), true)

    // Resumed from the savepoint: a restored event; then a failure: an error event and status failed.
    events.length = 0
    job = startGated({ out: join(dir, 'out') }, { checkpoint: { dir: chk, intervalMs: 0, restoreFrom: sp, warn: () => {} } })
    job.on((e) => events.push(e))
    const seen = job.events()
    await until(job, 'restored', (x) => x.checkpoints.restoredFrom === saved.id)
    assert.deepEqual(events[0], { type: 'restored', id: saved.id, from: sp })
    assert.equal(step(job.metrics(), 'counts').recordsIn, 200 * PARTITIONS, 'figures resume from the savepoint')
    await job.savepoint(sp).then(
      () => assert.fail('a savepoint into an existing folder'),
      (e: unknown) => assert.ok(e instanceof SluiceError && e.code === 'SLUICE_SAVEPOINT_EXISTS'),
    )
    await job.cancel()
    await assert.rejects(job.done, (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_JOB_CANCELLED')
    const all: JobEvent[] = []
    for await (const e of seen) all.push(e)
    assert.deepEqual(all.map((e) => (e.type === 'status' ? `status:${e.status}` : e.type === 'stop' ? `stop:${e.reason}` : e.type)), ['restored', 'status:running', 'stop:cancel', 'status:cancelled'])
    assert.deepEqual(events.slice(0, 2).map((e) => e.type), ['restored', 'status'])
  }))

test('a job that fails reports an error event and ends as failed; end of input is a stop with its reason', async () => {
  const events: JobEvent[] = []
  const job = startGated({ kind: 'stalled' })
  job.on((e) => events.push(e))
  stall.release()
  gate(10, true)
  assert.equal((await job.done).status, 'finished')
  assert.deepEqual(events.filter((e) => e.type === 'stop'), [{ type: 'stop', reason: 'end-of-input' }])
  assert.ok(events.some((e) => e.type === 'status' && e.status === 'finishing'))

  const bad = start(failing())
  const seen: JobEvent[] = []
  bad.on((e) => seen.push(e))
  await assert.rejects(bad.done, (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_USER_FUNCTION_FAILED')
  assert.equal(bad.status().status, 'failed')
  const error = seen.find((e) => e.type === 'error')
  assert.ok(error !== undefined && error.type === 'error' && error.error.code === 'SLUICE_USER_FUNCTION_FAILED')
})

for (const parallelism of [1, 2]) {
  test(`parallelism ${parallelism}: a savepoint taken through the handle with stop restores to the same output as a straight run`, () =>
    withDir(async (dir) => {
      const out = join(dir, 'out')
      const sp = join(dir, 'sp')
      const job = startGated({ out }, { parallelism, checkpoint: { dir: join(dir, 'chk'), intervalMs: 0, warn: () => {} } })
      gate(400)
      await until(job, 'records through the windows', (x) => step(x, 'combine-1').recordsIn === 400 * PARTITIONS && step(x, 'counts').recordsIn === step(x, 'combine-1').recordsOut)
      const stats = await job.savepoint(sp, { stop: true })
      assert.equal((await job.done).status, 'stopped')
      const partial = await lines(out)
      assert.ok(partial.length > 0, 'windows closed before the savepoint were committed')

      const resumed = startGated({ out }, { parallelism: 3 - parallelism, checkpoint: { dir: join(dir, 'chk2'), intervalMs: 0, restoreFrom: sp, warn: () => {} } })
      gate(1000, true)
      const s = await resumed.done
      assert.equal(s.checkpoints?.restoredFrom, stats.id)
      const straight = startGated({ out: join(dir, 'straight') }, { parallelism })
      gate(1000, true)
      await straight.done
      const all = await lines(out)
      assert.ok(all.length > partial.length)
      assert.deepEqual(all, await lines(join(dir, 'straight')))
    }))
}

test('stop() ends gracefully with a last checkpoint; cancel() at once, without one', () =>
  withDir(async (dir) => {
    const chk = join(dir, 'chk')
    const job = startGated({ out: join(dir, 'out') }, { checkpoint: { dir: chk, intervalMs: 0, warn: () => {} } })
    gate(100)
    await until(job, 'records read', (x) => source(x).recordsIn === 100 * PARTITIONS)
    const summary = await job.stop()
    assert.equal(summary.status, 'stopped')
    assert.equal(summary.checkpoints?.completed, 1)
    assert.equal(job.status().status, 'stopped')
    await assert.rejects(job.checkpoint(), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_JOB_NOT_RUNNING')

    const again = startGated({ out: join(dir, 'out') }, { checkpoint: { dir: chk, intervalMs: 0, warn: () => {} } })
    gate(300)
    await until(again, 'records read', (x) => source(x).recordsIn === 300 * PARTITIONS)
    await again.cancel()
    assert.equal(again.status().status, 'cancelled')
    await assert.rejects(again.done, (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_JOB_CANCELLED')
    assert.equal(again.metrics().checkpoints.completed, 0, 'no last checkpoint on cancel')
  }))

for (const parallelism of [1, 2]) {
  test(`parallelism ${parallelism}: a stalled sink shows as time blocked on output upstream, while it lasts`, async () => {
    stall.stalled = true
    stall.written = 0
    const job = startGated({ kind: 'stalled' }, { parallelism })
    gate(2000)
    // Thread 0's producer waits for the sink's write; another thread's source waits for credit.
    const blocked = (x: MetricsSnapshot) => x.subtasks.filter((t) => t.backpressureMs > 0).map((t) => `${t.kind}/${t.subtask}`)
    const s = await until(job, 'backpressure counted', (x) => blocked(x).includes('map/0') && (parallelism === 1 || blocked(x).includes('source-gated/1')))
    assert.ok(stall.written < 2000 * PARTITIONS, 'the stalled sink holds the sources back')
    assert.equal(s.steps.find((t) => t.kind === 'sink-stalled')!.backpressureMs, 0, 'the sink itself is not blocked on output')
    stall.release()
    gate(2000, true)
    const summary = await job.done
    assert.equal(summary.recordsIn, 2000 * PARTITIONS)
    assert.equal(stall.written, 2000 * PARTITIONS)
  })
}

/** A pipeline whose map throws on a record (the default error policy fails the job). */
function failing() {
  const p = pipeline('failing')
  p.from(sources.generator({ count: 10, make: (g) => g.seq }))
    .map((x) => {
      if (x === 5) throw new Error('no fives')
      return x
    })
    .to(sink.blackhole())
  return p
}
