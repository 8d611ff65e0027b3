import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLog } from '../log/log.ts'
import { resolvePolicy } from './policy.ts'
import { leaveHeldLogs, refuseUnsafeCheckpoints, retentionLoop, type RetentionClock, type RetentionPassReport } from './periodic.ts'

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T00:00:00Z')

function checkpoint(dir: string, id: number): void {
  const d = join(dir, `chk-${String(id).padStart(8, '0')}`)
  mkdirSync(d, { recursive: true })
  writeFileSync(join(d, 'manifest.json'), JSON.stringify({ id, operators: [] }))
}

/** A clock whose sleeps end when the test says: `sleeping` resolves once the loop waits. */
class StepClock implements RetentionClock {
  time = T0
  #wake: (() => void) | undefined
  #waiting: (() => void) | undefined
  now(): number {
    return this.time
  }
  sleep(_ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((done) => {
      this.#wake = done
      signal?.addEventListener('abort', () => done(), { once: true })
      this.#waiting?.()
    })
  }
  /** Resolves when the loop is waiting for its next pass. */
  sleeping(): Promise<void> {
    return new Promise((r) => (this.#waiting = r))
  }
  advance(ms: number): void {
    this.time += ms
    this.#wake?.()
  }
}

test('retentionLoop: a pass at once, the next after the period on its clock, each deletion logged; abort ends it after a whole pass', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-retention-loop-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const chk = join(root, 'state')
  for (const id of [1, 2, 3, 4]) checkpoint(chk, id)
  const sp = join(root, 'savepoints')
  for (const [name, age] of [['old', 40], ['newer', 29.5]] as const) {
    mkdirSync(join(sp, name), { recursive: true })
    utimesSync(join(sp, name), (T0 - age * DAY) / 1000, (T0 - age * DAY) / 1000)
  }
  const lineage = join(root, 'lineage.ndjson')
  writeFileSync(lineage, [100, 89.5, 1].map((d, n) => JSON.stringify({ eventTime: new Date(T0 - d * DAY).toISOString(), n })).join('\n') + '\n')
  const logDir = join(root, 'log')
  const log = await openLog(logDir, { retentionCheckMs: 0, now: () => T0 })
  await log.createTopic('orders.dlq', { partitions: 1, segmentBytes: 256 })
  for (let i = 0; i < 30; i++) await log.append('orders.dlq', 0, [{ value: `{"n":${i}}`, timestamp: T0 - (i < 15 ? 10 : 0) * DAY }])
  await log.close()

  const policy = resolvePolicy({ checkpoints: [{ dir: chk, keep: 2 }], savepoints: [{ dir: sp, maxAge: '30d' }], logs: [{ path: lineage, maxAge: '90d' }], topics: [{ dir: logDir, maxAge: '7d' }] })
  const clock = new StepClock()
  const stop = new AbortController()
  const passes: RetentionPassReport[] = []
  const logFile = join(root, 'retention.log')
  let asleep = clock.sleeping()
  const loop = retentionLoop(policy, { logFile, everyMs: DAY, clock, signal: stop.signal, onPass: (r) => passes.push(r) })

  await asleep
  assert.equal(passes.length, 1, 'the first pass runs at once')
  assert.deepEqual(new Set(passes[0]!.actions.map((a) => a.artifact)), new Set(['checkpoint', 'savepoint', 'log', 'topic']))
  assert.deepEqual([1, 2, 3, 4].map((id) => existsSync(join(chk, `chk-0000000${id}`))), [false, false, true, true])
  assert.deepEqual([existsSync(join(sp, 'old')), existsSync(join(sp, 'newer'))], [false, true])
  assert.deepEqual(readFileSync(lineage, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [1, 2])
  const reopened = await openLog(logDir, { retentionCheckMs: 0 })
  assert.ok(reopened.describe('orders.dlq').partitions[0]!.startOffset > 0, 'old dead-letter segments went')
  await reopened.close()

  asleep = clock.sleeping()
  checkpoint(chk, 5)
  clock.advance(DAY)
  await asleep
  assert.equal(passes.length, 2)
  assert.equal(passes[1]!.at, T0 + DAY, 'the second pass runs on the clock, a period later')
  assert.deepEqual(passes[1]!.actions.map((a) => [a.artifact, a.path.slice(root.length + 1)]), [
    ['checkpoint', 'state/chk-00000003'],
    ['savepoint', 'savepoints/newer'],
    ['log', 'lineage.ndjson'],
  ])
  const logged = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; time: string })
  assert.deepEqual(logged.map((l) => l.path), [...passes[0]!.actions, ...passes[1]!.actions].map((a) => a.path), 'every deletion logged, in order')
  assert.equal(logged.at(-1)!.time, new Date(T0 + DAY).toISOString())

  stop.abort()
  assert.equal(await loop, 2)
})

test('retentionLoop: a failed pass is reported and the next one runs', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-retention-loop-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  writeFileSync(join(root, 'file'), 'x')
  const clock = new StepClock()
  const stop = new AbortController()
  const errors: number[] = []
  let asleep = clock.sleeping()
  // The log path is under a file: appending to it fails on every pass with something to log.
  const lineage = join(root, 'lineage.ndjson')
  writeFileSync(lineage, JSON.stringify({ eventTime: new Date(T0 - 10 * DAY).toISOString() }) + '\n')
  const loop = retentionLoop(resolvePolicy({ logs: [{ path: lineage, maxAge: '1d' }] }), { logFile: join(root, 'file', 'retention.log'), everyMs: 1000, clock, signal: stop.signal, onError: (_e, pass) => errors.push(pass) })
  await asleep
  assert.deepEqual(errors, [1])
  assert.ok(existsSync(lineage) && readFileSync(lineage, 'utf8') !== '', 'nothing deleted without its log line')
  asleep = clock.sleeping()
  clock.advance(1000)
  await asleep
  assert.deepEqual(errors, [1, 2])
  stop.abort()
  assert.equal(await loop, 2)
})

test('a policy keeping fewer checkpoints than a running job keeps in its folder is refused', () => {
  const policy = resolvePolicy({ checkpoints: [{ dir: 'state/orders', keep: 2 }, { dir: 'state/other', keep: 1 }] })
  assert.throws(() => refuseUnsafeCheckpoints(policy, [{ job: 'orders', dir: 'state/orders', keep: 3 }], '/srv'), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'SLUICE_BAD_OPTION')
    assert.match(e.message, /checkpoints\[0\] keeps 2 checkpoints of 'state\/orders', where the running job 'orders' keeps 3/)
    assert.match(String(e.hint), /at least 3/)
    return true
  })
  refuseUnsafeCheckpoints(policy, [{ job: 'orders', dir: '/srv/state/orders', keep: 2 }, { job: 'x', dir: 'state/x', keep: 3 }], '/srv')
})

test('a log a running job appends to is left out of the policy, with who holds it', () => {
  const policy = resolvePolicy({ logs: [{ path: 'lineage/events.ndjson', maxAge: '90d' }, { path: '/srv/audit.ndjson', maxAge: '1d' }] })
  const { policy: safe, left } = leaveHeldLogs(policy, [{ job: 'orders', path: '/srv/lineage/events.ndjson' }], '/srv')
  assert.deepEqual(safe.logs.map((l) => l.path), ['/srv/audit.ndjson'])
  assert.deepEqual(left, [{ job: 'orders', path: 'lineage/events.ndjson' }])
  assert.equal(policy.logs.length, 2, 'the given policy is unchanged')
})
