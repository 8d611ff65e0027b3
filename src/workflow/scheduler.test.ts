import assert from 'node:assert/strict'
import { test } from 'node:test'
import { VirtualClock } from './clock.ts'
import { hourly, staticPartitions } from './partitions.ts'
import { seededRandom } from './retry.ts'
import { every } from './schedule.ts'
import { Scheduler, Slots, type WorkflowEvent } from './scheduler.ts'
import { WorkflowStore } from './store.ts'
import { fnTask, type TaskContext } from './task.ts'
import { workflow } from './workflow.ts'

const T0 = Date.parse('2026-01-01T00:00Z')

function setup(wf: ReturnType<ReturnType<typeof workflow>['build']>, opts: { global?: Slots; order?: 'oldest-first' | 'newest-first'; start?: number } = {}) {
  const clock = new VirtualClock(opts.start ?? T0)
  const store = new WorkflowStore(':memory:')
  const events: WorkflowEvent[] = []
  const s = new Scheduler(wf, { store, clock, random: seededRandom(1), onEvent: (e) => events.push(e), ...opts })
  return { clock, store, events, s }
}

test('each (task, partition) runs once, upstream first, with its partition bounds as params', async () => {
  const seen: string[] = []
  const params: Record<string, string>[] = []
  const wf = workflow('w', { partitions: hourly('2026-01-01') })
    .task('ingest', fnTask((c) => void seen.push(`ingest ${c.partition}`)))
    .task('load', fnTask((c) => void (seen.push(`load ${c.partition}`), params.push(c.params))), { dependsOn: ['ingest'] })
    .build()
  const { s } = setup(wf, { start: T0 + 2 * 3_600_000 + 5 })
  assert.deepEqual(s.materialize(), ['2026-01-01T00', '2026-01-01T01'])
  const sum = await s.drain()
  assert.equal(sum.succeeded, 4)
  for (const p of ['2026-01-01T00', '2026-01-01T01']) assert.ok(seen.indexOf(`ingest ${p}`) < seen.indexOf(`load ${p}`))
  assert.deepEqual(params[0], { partition: '2026-01-01T00', start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T01:00:00.000Z' })
  // queued again: nothing runs twice
  assert.deepEqual(s.materialize(), [])
  s.enqueue(['2026-01-01T00'])
  await s.drain()
  assert.equal(seen.length, 4)
})

test('a failing task is retried with exponential backoff in virtual time, then succeeds', async () => {
  let calls = 0
  const times: number[] = []
  const wf = workflow('w')
    .task('flaky', fnTask(() => { times.push(clock.now()); if (++calls < 3) throw new Error('busy') }), { retry: { retries: 3, baseMs: 1000, factor: 2, jitter: 0 } })
    .build()
  const { s, store, clock } = setup(wf)
  s.materialize()
  const sum = await s.drain()
  assert.equal(sum.succeeded, 1)
  assert.deepEqual(times.map((t) => t - T0), [0, 1000, 3000])
  assert.deepEqual(store.history('w').map((h) => h.outcome).reverse(), ['failed', 'failed', 'succeeded'])
})

test('retries run out: the run fails and its downstream is marked upstream_failed', async () => {
  const wf = workflow('w')
    .task('a', fnTask(() => { throw new Error('no') }), { retry: { retries: 1, baseMs: 10 } })
    .task('b', fnTask(() => {}), { dependsOn: ['a'] })
    .build()
  const { s, store } = setup(wf)
  s.materialize()
  const sum = await s.drain()
  assert.equal(sum.failed, 1)
  assert.equal(sum.upstream_failed, 1)
  assert.equal(store.run('w', 'a', 'default')?.error, 'no')
})

test('a task over its timeout is aborted and counted as timed out', async () => {
  let aborted = false
  const wf = workflow('w')
    .task('slow', fnTask((c: TaskContext) => new Promise<void>((resolve) => c.signal.addEventListener('abort', () => { aborted = true; resolve() }))), { timeoutMs: 30_000 })
    .build()
  const { s, store, clock } = setup(wf)
  s.materialize()
  const sum = await s.drain()
  assert.equal(sum.failed, 1)
  assert.ok(aborted)
  assert.equal(clock.now() - T0, 30_000)
  assert.equal(store.history('w')[0]?.outcome, 'timed_out')
})

test('a timed-out attempt that stops late is waited for: its retry never runs beside it', async () => {
  const log: string[] = []
  const wf = workflow('w')
    .task('slow', fnTask(async (c: TaskContext) => {
      log.push(`start ${c.attempt}`)
      if (c.attempt === 1) await clock.sleep(35_000) // ignores its signal for 5 s past the timeout
      log.push(`end ${c.attempt}`)
    }), { timeoutMs: 30_000, retry: { retries: 1, baseMs: 10, jitter: 0 } })
    .build()
  const { s, store, clock } = setup(wf)
  s.materialize()
  assert.equal((await s.drain()).succeeded, 1)
  assert.deepEqual(log, ['start 1', 'end 1', 'start 2', 'end 2'])
  assert.deepEqual(store.history('w').map((h) => h.outcome).reverse(), ['timed_out', 'succeeded'])
})

test('concurrency limits: per task, per workflow, and global across schedulers', async () => {
  const parts = ['a', 'b', 'c', 'd', 'e', 'f']
  let now = 0
  let max = 0
  const slow = fnTask(async () => { now++; max = Math.max(max, now); await clock.sleep(100); now-- })
  let clock = new VirtualClock(T0)
  const check = async (wf: ReturnType<ReturnType<typeof workflow>['build']>, global?: Slots) => {
    const x = setup(wf, global ? { global } : {})
    clock = x.clock
    max = 0
    x.s.materialize()
    await x.s.drain()
    return max
  }
  assert.equal(await check(workflow('w', { partitions: staticPartitions(parts) }).task('t', slow, { concurrency: 2 }).build()), 2)
  assert.equal(await check(workflow('w', { partitions: staticPartitions(parts), concurrency: 3 }).task('t', slow).build()), 3)
  assert.equal(await check(workflow('w', { partitions: staticPartitions(parts) }).task('t', slow).build(), new Slots(4)), 4)
})

test('a global limit is shared by the schedulers of two workflows draining at once', async () => {
  const clock = new VirtualClock(T0)
  const store = new WorkflowStore(':memory:')
  const global = new Slots(2)
  let now = 0
  let max = 0
  const seen = new Set<string>()
  const slow = fnTask(async (c) => { now++; max = Math.max(max, now); seen.add(c.workflow); await clock.sleep(100); now-- })
  const parts = staticPartitions(['a', 'b', 'c', 'd'])
  const one = new Scheduler(workflow('one', { partitions: parts }).task('t', slow).build(), { store, clock, global })
  const two = new Scheduler(workflow('two', { partitions: parts }).task('t', slow).build(), { store, clock, global })
  one.materialize()
  two.materialize()
  const [a, b] = await Promise.all([one.drain(), two.drain()])
  assert.equal(a.succeeded + b.succeeded, 8)
  assert.equal(max, 2)
  assert.deepEqual([...seen].sort(), ['one', 'two'])
  assert.equal(global.inUse, 0)
})

test('priorities first, then partitions oldest- or newest-first', async () => {
  const order: string[] = []
  const rec = fnTask((c) => void order.push(`${c.task}:${c.partition}`))
  const wf = workflow('w', { partitions: staticPartitions(['1', '2']), concurrency: 1 }).task('low', rec).task('high', rec, { priority: 5 }).build()
  const a = setup(wf)
  a.s.materialize()
  await a.s.drain()
  assert.deepEqual(order, ['high:1', 'high:2', 'low:1', 'low:2'])
  order.length = 0
  const b = setup(wf, { order: 'newest-first' })
  b.s.materialize()
  await b.s.drain()
  assert.deepEqual(order, ['high:2', 'high:1', 'low:2', 'low:1'])
})

test('a schedule without time partitions makes one partition per tick; catch-up latest keeps only the last', async () => {
  const wf = workflow('w', { schedule: every(3_600_000), catchUp: 'latest' }).task('t', fnTask(() => {})).build()
  const { s, clock } = setup(wf)
  assert.deepEqual(s.materialize(), ['2026-01-01T00:00:00.000Z'])
  clock.time += 5 * 3_600_000
  assert.deepEqual(s.materialize(), ['2026-01-01T05:00:00.000Z'])
  const all = setup(workflow('w', { schedule: every(3_600_000) }).task('t', fnTask(() => {})).build())
  all.s.materialize()
  all.clock.time += 3 * 3_600_000
  assert.equal(all.s.materialize().length, 3)
})

test('time partitions: catch-up all queues every hour missed while down, latest only the newest', async () => {
  for (const [catchUp, expected] of [['all', ['2026-01-01T02', '2026-01-01T03', '2026-01-01T04']], ['latest', ['2026-01-01T04']]] as const) {
    const wf = workflow('w', { partitions: hourly('2026-01-01'), catchUp }).task('t', fnTask(() => {})).build()
    const { s, clock } = setup(wf, { start: T0 + 2 * 3_600_000 })
    assert.deepEqual(s.materialize(), catchUp === 'all' ? ['2026-01-01T00', '2026-01-01T01'] : ['2026-01-01T01'])
    clock.time += 3 * 3_600_000 // the scheduler was down for three hours
    assert.deepEqual(s.materialize(), expected, catchUp)
  }
})

test('a scheduler that dies while queuing what is due loses no partition: the mark and the runs move together', async () => {
  // The store dies (as a SIGKILL would cut it) in the one write that queues the due partitions.
  class DyingStore extends WorkflowStore {
    dies = false
    override enqueue(...args: Parameters<WorkflowStore['enqueue']>): number {
      if (this.dies) {
        this.dies = false
        throw new Error('killed')
      }
      return super.enqueue(...args)
    }
  }
  for (const opts of [{ partitions: hourly('2026-01-01') }, { schedule: every(3_600_000) }]) {
    const store = new DyingStore(':memory:')
    const clock = new VirtualClock(T0)
    const wf = workflow('w', opts).task('t', fnTask(() => {})).build()
    const s = new Scheduler(wf, { store, clock })
    const first = s.materialize().length // the first look of a tick schedule starts from now
    clock.time = T0 + 3 * 3_600_000 + 5
    store.dies = true
    assert.throws(() => s.materialize(), /killed/)
    const again = new Scheduler(wf, { store, clock })
    assert.equal(again.materialize().length, 3, JSON.stringify(opts))
    assert.equal((await again.drain()).succeeded, first + 3)
  }
})

test('runs left running by a dead scheduler are queued again, not counted against retries', async () => {
  const store = new WorkflowStore(':memory:')
  const wf = workflow('w').task('t', fnTask(() => {})).build()
  store.enqueue('w', ['t'], ['default'], T0)
  assert.ok(store.claim('w', 't', 'default', T0))
  const s = new Scheduler(wf, { store, clock: new VirtualClock(T0) })
  assert.equal(s.recover(), 1)
  await s.drain()
  const run = store.run('w', 't', 'default')!
  assert.equal(run.status, 'succeeded')
  assert.equal(run.failures, 0)
  assert.deepEqual(store.history('w').map((h) => h.outcome).reverse(), ['interrupted', 'succeeded'])
})

test('cancel stops a running function task: it ends cancelled, is not retried, and its downstream does not run', async () => {
  let sawAbort = false
  const wf = workflow('w')
    .task('slow', fnTask((c: TaskContext) => new Promise<void>((resolve) => c.signal.addEventListener('abort', () => { sawAbort = true; resolve() }))), { retry: { retries: 3, baseMs: 10 } })
    .task('after', fnTask(() => {}), { dependsOn: ['slow'] })
    .build()
  const { s, store, events } = setup(wf)
  s.materialize()
  const drained = s.drain()
  while (!events.some((e) => e.type === 'run-started')) await new Promise((r) => setImmediate(r))
  assert.deepEqual(s.cancel([{ task: 'slow', partition: 'default' }, { task: 'after', partition: 'default' }]), { queued: 1, running: 1 })
  const sum = await drained
  assert.ok(sawAbort)
  assert.equal(sum.cancelled, 2)
  assert.deepEqual(store.history('w').map((h) => `${h.task} ${h.outcome}`), ['slow cancelled'])
  assert.ok(events.some((e) => e.type === 'run-cancelled' && e.task === 'slow'))
})

test('a cancel asked through the store (by another process) reaches the draining scheduler', async () => {
  const wf = workflow('w').task('slow', fnTask((c: TaskContext) => c.sleep(3_600_000))).build()
  const { s, store, events } = setup(wf)
  s.materialize()
  const drained = s.drain()
  while (!events.some((e) => e.type === 'run-started')) await new Promise((r) => setImmediate(r))
  assert.equal(store.requestCancel('w', [{ task: 'slow', partition: 'default' }]), 1)
  const sum = await drained
  assert.equal(sum.cancelled, 1)
  assert.equal(store.run('w', 'slow', 'default')?.cancelRequested, false)
})

test('a run asked to cancel when its scheduler died is cancelled, not run again, by the next one', async () => {
  const store = new WorkflowStore(':memory:')
  const wf = workflow('w').task('t', fnTask(() => assert.fail('must not run'))).build()
  store.enqueue('w', ['t'], ['default'], T0)
  assert.ok(store.claim('w', 't', 'default', T0))
  store.requestCancel('w', [{ task: 't', partition: 'default' }])
  const s = new Scheduler(wf, { store, clock: new VirtualClock(T0) })
  s.recover()
  const sum = await s.drain()
  assert.equal(sum.cancelled, 1)
  assert.deepEqual(store.history('w').map((h) => h.outcome), ['cancelled'])
})
