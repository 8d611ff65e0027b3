import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SluiceError } from '../../core/errors.ts'
import { MetricsRegistry } from '../../observe/metrics/registry.ts'
import { FakeRunner } from './fake-runner.ts'
import { createJob } from './handle.ts'
import type { JobEvent } from './types.ts'

/** A job on a fake runner, with a wall clock the test moves. */
function job() {
  let t = 1_000
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) }
  const registry = new MetricsRegistry({ pipeline: 'p', now: clock.now })
  const warnings: string[] = []
  const { handle, control } = createJob('p', registry, { now: clock.now, warn: (m) => warnings.push(m) })
  const runner = new FakeRunner(control)
  return { handle, control, runner, registry, clock, warnings }
}

const code = (c: string) => (e: unknown) => e instanceof SluiceError && e.code === c

/** Collects every event of an iteration until it ends. */
async function drain(it: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const seen: JobEvent[] = []
  for await (const e of it) seen.push(e)
  return seen
}

const brief = (e: JobEvent) => (e.type === 'status' ? `status:${e.status}` : e.type === 'stop' ? `stop:${e.reason}` : e.type === 'checkpoint-completed' ? `checkpoint:${e.stats.id}${e.savepoint !== undefined ? `:${e.savepoint}` : ''}` : e.type)

test('status moves through the life cycle with the time of each move; the registry shows it', async () => {
  const { handle, control, runner, clock } = job()
  assert.deepEqual(handle.status(), { status: 'starting', since: 1_000 })
  clock.advance(50)
  const run = runner.run()
  assert.deepEqual(handle.status(), { status: 'running', since: 1_050 })
  assert.equal(handle.metrics().status, 'running')
  clock.advance(100)
  runner.end()
  const summary = await handle.done
  await run
  assert.equal(summary.status, 'finished')
  assert.deepEqual(handle.status(), { status: 'finished', since: 1_150 })
  assert.equal(handle.metrics().status, 'finished')
  // Nothing leaves a final status, and nothing goes back to running.
  assert.throws(() => control.setStatus('running'), code('SLUICE_JOB_BAD_STATUS'))
  assert.throws(() => control.finished(summary), code('SLUICE_JOB_BAD_STATUS'))
  const other = job()
  other.control.setStatus('running')
  other.control.setStatus('finishing')
  assert.throws(() => other.control.setStatus('running'), code('SLUICE_JOB_BAD_STATUS'))
  other.control.setStatus('finishing')
  assert.equal(other.handle.status().status, 'finishing')
  // A status event emitted by the runner is a status move, checked the same way.
  assert.throws(() => other.control.emit({ type: 'status', status: 'running', at: 0 }), code('SLUICE_JOB_BAD_STATUS'))
  // A final status comes only with the outcome, so that `done` always settles.
  assert.throws(() => other.control.setStatus('finished'), code('SLUICE_JOB_BAD_STATUS'))
  other.control.finished({ ...summary, status: 'finished' })
  assert.equal(other.handle.status().status, 'finished')
  assert.equal((await other.handle.done).status, 'finished')
})

test('events reach every listener and every iterator in the same order; iterations end with the job', async () => {
  const { handle, runner, warnings } = job()
  const a: JobEvent[] = []
  const b: JobEvent[] = []
  handle.on((e) => a.push(e))
  handle.on(() => {
    throw new Error('a listener bug')
  })
  const off = handle.on((e) => b.push(e))
  const it1 = drain(handle.events())
  const it2 = drain(handle.events())
  const run = runner.run()
  runner.feed(10)
  await handle.checkpoint()
  off()
  runner.end()
  await run
  const expected = ['status:running', 'checkpoint:1', 'stop:end-of-input', 'status:finishing', 'checkpoint:2', 'status:finished']
  assert.deepEqual(a.map(brief), expected)
  assert.deepEqual(b.map(brief), expected.slice(0, 2))
  assert.deepEqual((await it1).map(brief), expected)
  assert.deepEqual((await it2).map(brief), expected)
  assert.ok(warnings.length > 0 && warnings.every((w) => w.includes('listener threw')))
  // An iteration begun after the end is empty.
  assert.deepEqual(await drain(handle.events()), [])
})

test('an iteration left early stops receiving; one that reads late gets what it missed, in order', async () => {
  const { handle, control, runner } = job()
  const late = handle.events()
  const early = handle.events()[Symbol.asyncIterator]()
  const run = runner.run()
  assert.equal(brief((await early.next()).value!), 'status:running')
  await early.return!()
  await handle.checkpoint()
  control.restored(7, 'state/chk-7')
  await handle.stop()
  await run
  assert.deepEqual((await drain(late)).map(brief), ['status:running', 'checkpoint:1', 'restored', 'stop:stop', 'status:stopping', 'checkpoint:2', 'status:stopped'])
})

test('checkpoint() resolves with the stats the runner took; the registry counts it', async () => {
  const { handle, runner } = job()
  const run = runner.run()
  const stats = await handle.checkpoint()
  assert.deepEqual(stats, runner.checkpoints[0])
  const m = handle.metrics()
  assert.equal(m.checkpoints.completed, 1)
  assert.equal(m.checkpoints.lastId, 1)
  assert.equal(m.checkpoints.lastBytes, 100)
  runner.end()
  await run
})

test('a command wakes a runner that waits for input', async () => {
  const { handle, runner } = job()
  const run = runner.run()
  await new Promise((r) => setImmediate(r))
  // No input: the runner is waiting; only the wake lets it serve the checkpoint.
  assert.equal((await handle.checkpoint()).id, 1)
  runner.end()
  await run
})

test('savepoint with stop resolves with its stats, then the job stops gracefully', async () => {
  const { handle, runner } = job()
  const events: JobEvent[] = []
  handle.on((e) => events.push(e))
  const run = runner.run()
  runner.feed(5)
  const sp = await handle.savepoint('savepoints/v1', { stop: true })
  assert.equal(sp.id, 1)
  const summary = await handle.done
  await run
  assert.equal(summary.status, 'stopped')
  assert.equal(handle.status().status, 'stopped')
  assert.deepEqual(events.map(brief), ['status:running', 'checkpoint:1:savepoints/v1', 'stop:savepoint', 'status:stopping', 'checkpoint:2', 'status:stopped'])
})

test('stop() is graceful: a last checkpoint, then the summary; a second stop waits for the same end', async () => {
  const { handle, runner } = job()
  const run = runner.run()
  runner.feed(3)
  const [s1, s2] = await Promise.all([handle.stop(), handle.stop()])
  await run
  assert.equal(s1, s2)
  assert.equal(s1.status, 'stopped')
  assert.equal(runner.checkpoints.length, 1)
  assert.equal(handle.metrics().checkpoints.completed, 1)
})

test('cancel aborts the signal at once, drops queued requests, takes no checkpoint, and done rejects', async () => {
  const { handle, control, runner } = job()
  const events: JobEvent[] = []
  handle.on((e) => events.push(e))
  const queued = handle.checkpoint()
  assert.equal(control.signal.aborted, false)
  const cancelled = handle.cancel()
  assert.equal(control.signal.aborted, true)
  await assert.rejects(queued, code('SLUICE_JOB_CANCELLED'))
  await assert.rejects(handle.savepoint('x'), code('SLUICE_JOB_NOT_RUNNING'))
  await runner.run()
  await cancelled
  assert.equal(handle.status().status, 'cancelled')
  assert.equal(runner.checkpoints.length, 0)
  await assert.rejects(handle.done, code('SLUICE_JOB_CANCELLED'))
  assert.deepEqual(events.map(brief), ['stop:cancel', 'status:running', 'status:cancelled'])
})

test('commands after the end reject with SLUICE_JOB_NOT_RUNNING; those left unserved at the end too', async () => {
  const { handle, runner } = job()
  // Queued once the runner is finishing: it serves no more commands.
  let unserved: Promise<unknown> | undefined
  handle.on((e) => {
    if (e.type === 'status' && e.status === 'finishing') unserved = handle.savepoint('late')
  })
  const run = runner.run()
  runner.end()
  await run
  assert.equal(handle.status().status, 'finished')
  await assert.rejects(unserved!, (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_JOB_NOT_RUNNING' && e.message.includes('savepoint'))
  await assert.rejects(handle.checkpoint(), code('SLUICE_JOB_NOT_RUNNING'))
  await assert.rejects(handle.savepoint('x', { stop: true }), code('SLUICE_JOB_NOT_RUNNING'))
  await assert.rejects(handle.stop(), code('SLUICE_JOB_NOT_RUNNING'))
  await assert.rejects(handle.cancel(), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_JOB_NOT_RUNNING' && e.message.includes('finished'))
})

test('a failing job: an error event, status failed, done rejects with the error (no unhandled rejection)', async () => {
  const { handle, runner } = job()
  const events: JobEvent[] = []
  handle.on((e) => events.push(e))
  const run = runner.run()
  runner.fail(new SluiceError('SLUICE_SINK_FAILED', "sink 'out' failed", { domain: 'external' }))
  await run
  assert.equal(handle.status().status, 'failed')
  assert.deepEqual(events.at(-2), { type: 'error', error: { code: 'SLUICE_SINK_FAILED', message: "sink 'out' failed" } })
  await assert.rejects(handle.done, code('SLUICE_SINK_FAILED'))
  // A plain error becomes an internal SluiceError.
  const other = job()
  const run2 = other.runner.run()
  other.runner.fail(new TypeError('x is undefined'))
  await run2
  await assert.rejects(other.handle.done, (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_INTERNAL' && e.domain === 'internal')
})

test('handle.metrics() is the registry snapshot, live', async () => {
  const { handle, registry, runner } = job()
  const m = registry.step('map-1', 'map', 0)
  m.recordsIn = 3
  assert.equal(handle.metrics().steps[0].recordsIn, 3)
  m.recordsIn = 8
  assert.equal(handle.metrics().steps[0].recordsIn, 8)
  const run = runner.run()
  runner.end()
  await run
})

test('the checkpoint interval reads and changes while the job runs; without checkpoints or after the end it cannot change', async () => {
  const { handle, control, runner } = job()
  const running = runner.run()
  assert.equal(handle.checkpointInterval(), 60_000)
  handle.setCheckpointInterval(5_000)
  assert.equal(runner.intervalMs, 5_000)
  assert.throws(() => handle.setCheckpointInterval(-1), code('SLUICE_BAD_ARGUMENT'))
  const hook = control.checkpointing
  control.checkpointing = undefined
  assert.equal(handle.checkpointInterval(), undefined)
  assert.throws(() => handle.setCheckpointInterval(1_000), code('SLUICE_NO_CHECKPOINTS'))
  control.checkpointing = hook
  await handle.stop()
  await running
  assert.equal(handle.checkpointInterval(), undefined)
  assert.throws(() => handle.setCheckpointInterval(1_000), code('SLUICE_JOB_NOT_RUNNING'))
})
