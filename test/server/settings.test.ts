import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pipeline, sink, source, start } from '../../src/index.ts'
import { controlPlane } from '../../src/server/app.ts'
import { AuditLog } from '../../src/server/audit.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { fixture } from './support.ts'

type Json = Record<string, any>
const message = async (res: Response) => ((await res.json()) as { error: { message: string } }).error.message

test('an admin changes the checkpoint interval of a running job: its checkpoints follow the new interval, and the change is audited', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-settings-'))
  const p = pipeline('paced')
  p.from(source.generator({ make: (g) => ({ n: g.seq }), ratePerSecond: 200 })).to(sink.blackhole())
  // An hour between checkpoints: none is taken during the test unless the interval changes.
  const job = start(p, { checkpoint: { dir: join(dir, 'cp'), intervalMs: 3_600_000 } })
  const tokens = await TokenStore.open(join(dir, 'server'))
  const audit = await AuditLog.open(join(dir, 'server', 'log'))
  const completed: number[] = []
  job.on((e) => {
    if (e.type === 'checkpoint-completed' && e.savepoint === undefined) completed.push(e.stats.id)
  })
  try {
    const admin = (await tokens.create('admin')).token
    const app = controlPlane({ jobs: new Map([['paced', job]]), checkpointDirs: new Map([['paced', join(dir, 'cp')]]), tokens, audit, savepointDir: join(dir, 'savepoints') })
    const call = (method: string, path: string, body?: unknown) => app.request(path, { method, headers: { authorization: `Bearer ${admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    while (job.checkpointInterval() === undefined) await new Promise((r) => setTimeout(r, 20))
    const before = (await (await call('GET', '/api/settings')).json()) as Json
    assert.deepEqual(before.jobs, [{ name: 'paced', status: 'running', checkpointDir: join(dir, 'cp'), checkpointInterval: '1h' }])
    assert.deepEqual(before.settings, { records: 'masked', jobs: { paced: { checkpointInterval: '1h' } } })
    assert.equal(completed.length, 0)

    const res = await call('PATCH', '/api/settings', { jobs: { paced: { checkpointInterval: '200ms' } } })
    assert.equal(res.status, 200)
    assert.deepEqual(((await res.json()) as Json).changes, [{ setting: 'jobs.paced.checkpointInterval', from: '1h', to: '200ms' }])
    assert.equal(job.checkpointInterval(), 200)
    // Checkpoints now come on their own (a generous deadline: the test does not time them).
    const deadline = Date.now() + 60_000
    while (completed.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.ok(completed.length >= 3, `${completed.length} checkpoints after the change`)
    assert.equal(((await (await call('GET', '/api/settings')).json()) as Json).settings.jobs.paced.checkpointInterval, '200ms')

    const [entry] = await audit.read()
    assert.deepEqual([entry!.method, entry!.path, entry!.role, entry!.status, entry!.outcome], ['PATCH', '/api/settings', 'admin', 200, 'ok'])
    assert.equal(entry!.who, tokens.verify(admin)!.id)
    assert.deepEqual(entry!.changes, [{ setting: 'jobs.paced.checkpointInterval', from: '1h', to: '200ms' }])
  } finally {
    await job.stop()
    await audit.close()
    await rm(dir, { recursive: true, force: true })
  }
  // Once the job has ended its interval can no longer change.
  assert.equal(job.checkpointInterval(), undefined)
  assert.throws(() => job.setCheckpointInterval(1000), { code: 'SLUICE_JOB_NOT_RUNNING' })
})

test('settings are for admins: a viewer or operator gets 403 and nothing changes; the refusals are audited', async () => {
  const f = await fixture()
  try {
    for (const role of ['viewer', 'operator'] as const) {
      assert.equal((await f.call('GET', '/api/settings', { token: f.token[role] })).status, 403)
      assert.equal((await f.call('PATCH', '/api/settings', { token: f.token[role], body: { records: 'operators', jobs: { clicks: { checkpointInterval: '1s' } } } })).status, 403)
    }
    assert.equal(f.settings.records, 'masked')
    assert.equal(f.handle.checkpointInterval(), 60_000)
    assert.deepEqual((await f.audit.read()).map((e) => [e.method, e.role, e.status, e.outcome]), [
      ['GET', 'viewer', 403, 'refused'],
      ['PATCH', 'viewer', 403, 'refused'],
      ['GET', 'operator', 403, 'refused'],
      ['PATCH', 'operator', 403, 'refused'],
    ])
  } finally {
    await f.close()
  }
})

test('a bad setting is a 400 naming the field, and nothing of the request applies', async () => {
  const f = await fixture()
  try {
    const patch = (body: unknown) => f.call('PATCH', '/api/settings', { token: f.token.admin, body })
    const cases: [unknown, RegExp][] = [
      [{ jobs: { clicks: { checkpointInterval: 'soon' } } }, /jobs\.clicks\.checkpointInterval: a duration such as/],
      [{ jobs: { clicks: { checkpointInterval: '10ms' } } }, /jobs\.clicks\.checkpointInterval: .*at least 100ms/],
      [{ jobs: { clicks: { checkpointInterval: 30 } } }, /jobs\.clicks\.checkpointInterval: /],
      [{ records: 'everyone' }, /records: /],
      [{ records: 'operators', jobs: { nope: { checkpointInterval: '1s' } } }, /jobs\.nope: no such job \(served: clicks\)/],
      [{ colour: 'blue' }, /colour/],
      [{}, /give at least one setting/],
      ['not json', /not JSON|invalid request body/],
    ]
    for (const [body, why] of cases) {
      const res = await patch(body)
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.match(await message(res), why)
    }
    // The valid half of a refused request did not apply.
    assert.equal(f.settings.records, 'masked')
    assert.equal(f.handle.checkpointInterval(), 60_000)
    assert.ok((await f.audit.read()).every((e) => e.status === 400 && e.outcome === 'failed' && e.changes === undefined))
  } finally {
    await f.close()
  }
})

test("records: 'operators' shows dead letters and late samples unmasked to operators and admins, never to viewers", async () => {
  const f = await fixture()
  try {
    const email = async (role: 'viewer' | 'operator' | 'admin') => {
      const letters = (await (await f.call('GET', '/api/jobs/clicks/dead-letters', { token: f.token[role] })).json()) as Json
      const late = (await (await f.call('GET', '/api/jobs/clicks/late', { token: f.token[role] })).json()) as Json
      return [letters.letters[0].record.email, late[0].samples[0].record.email]
    }
    for (const role of ['viewer', 'operator', 'admin'] as const) assert.deepEqual(await email(role), ['***', '***'])
    const res = await f.call('PATCH', '/api/settings', { token: f.token.admin, body: { records: 'operators' } })
    assert.equal(res.status, 200)
    assert.deepEqual(await email('viewer'), ['***', '***'])
    assert.deepEqual(await email('operator'), ['u1@example.com', 'late@example.com'])
    assert.deepEqual(await email('admin'), ['u1@example.com', 'late@example.com'])
    const settings = (await (await f.call('GET', '/api/settings', { token: f.token.admin })).json()) as Json
    assert.deepEqual(settings.settings, { records: 'operators', jobs: { clicks: { checkpointInterval: '1m' } } })
    assert.deepEqual((await f.audit.read()).map((e) => [e.method, e.path, e.status, e.changes]), [['PATCH', '/api/settings', 200, [{ setting: 'records', from: 'masked', to: 'operators' }]]])
  } finally {
    await f.close()
  }
})
