import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { VirtualClock } from './clock.ts'
import { retentionTask } from './retention-task.ts'
import { seededRandom } from './retry.ts'
import { every } from './schedule.ts'
import { Scheduler } from './scheduler.ts'
import { WorkflowStore } from './store.ts'
import { workflow } from './workflow.ts'

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T00:00:00Z')

test('retentionTask: a scheduled workflow applies the policy at the scheduler\'s time, each tick, logging each deletion', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-retention-task-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const sp = join(root, 'savepoints')
  for (const [name, age] of [['a', 31], ['b', 29.5], ['c', 1]] as const) {
    mkdirSync(join(sp, name), { recursive: true })
    utimesSync(join(sp, name), (T0 - age * DAY) / 1000, (T0 - age * DAY) / 1000)
  }
  writeFileSync(join(root, 'lineage.ndjson'), [95, 89.5, 1].map((d, n) => JSON.stringify({ eventTime: new Date(T0 - d * DAY).toISOString(), n })).join('\n') + '\n')

  const wf = workflow('housekeeping', { schedule: every(DAY) })
    .task('retention', retentionTask({ savepoints: [{ dir: 'savepoints', maxAge: '30d' }], logs: [{ path: 'lineage.ndjson', maxAge: '90d' }] }, { log: 'retention.log', cwd: root }))
    .build()
  const clock = new VirtualClock(T0)
  const store = new WorkflowStore(':memory:')
  t.after(() => store.close())
  const s = new Scheduler(wf, { store, clock, random: seededRandom(1) })

  s.materialize()
  assert.equal((await s.drain()).succeeded, 1)
  assert.deepEqual(['a', 'b', 'c'].map((n) => existsSync(join(sp, n))), [false, true, true])
  assert.deepEqual(readFileSync(join(root, 'lineage.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [1, 2])

  // The drain's own waits move virtual time on a little while the task does real I/O: set the next day.
  clock.time = T0 + DAY
  assert.equal(s.materialize().length, 1, 'the next tick')
  assert.equal((await s.drain()).succeeded, 2, 'both ticks (the store counts every run)')
  assert.deepEqual(['a', 'b', 'c'].map((n) => existsSync(join(sp, n))), [false, false, true], 'aged past 30d by the scheduler\'s clock')
  assert.deepEqual(readFileSync(join(root, 'lineage.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [2])
  const logged = readFileSync(join(root, 'retention.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { artifact: string; time: string })
  assert.deepEqual(logged.map((l) => l.artifact), ['savepoint', 'log', 'savepoint', 'log'])
  const times = logged.map((l) => Date.parse(l.time))
  assert.ok(times[0]! < T0 + DAY && times[3]! >= T0 + DAY, 'logged at the scheduler\'s time')
})

test('retentionTask: a bad policy fails when the workflow is defined', () => {
  assert.throws(() => retentionTask({ checkpoints: [{ dir: 'state', keep: 0 }] }), /keep must be a positive integer/)
})
