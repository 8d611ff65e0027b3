import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixture } from './support.ts'

test('mutating and refused calls are audited with who, what, when and outcome; reads are not', async () => {
  const f = await fixture()
  try {
    const me = f.tokens.verify(f.token.operator)!.id
    assert.equal((await f.call('GET', '/api/jobs', { token: f.token.viewer })).status, 200)
    assert.equal((await f.call('POST', '/api/jobs/clicks/savepoint', { token: f.token.viewer, body: { name: 'a' } })).status, 403)
    assert.equal((await f.call('POST', '/api/jobs/clicks/savepoint', { token: f.token.operator, body: { name: 'a' } })).status, 200)
    assert.equal((await f.call('GET', '/api/jobs')).status, 401)
    const entries = await f.audit.read()
    assert.deepEqual(entries.map((e) => [e.method, e.path, e.role, e.status, e.outcome]), [
      ['POST', '/api/jobs/clicks/savepoint', 'viewer', 403, 'refused'],
      ['POST', '/api/jobs/clicks/savepoint', 'operator', 200, 'ok'],
      ['GET', '/api/jobs', null, 401, 'refused'],
    ])
    assert.equal(entries[1]!.who, me)
    assert.ok(entries.every((e) => Number.isInteger(e.at) && e.at > 0))
  } finally {
    await f.close()
  }
})

test('the audit log cannot be rewritten through the API: every other method on it is refused and itself audited', async () => {
  const f = await fixture()
  try {
    await f.call('POST', '/api/jobs/clicks/checkpoint', { token: f.token.operator })
    const before = await f.audit.read()
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const path of ['/api/audit', '/api/audit/0']) {
        const res = await f.call(method, path, { token: f.token.admin, body: [] })
        assert.ok(res.status === 404 || res.status === 405, `${method} ${path}: ${res.status}`)
      }
    }
    const after = await f.audit.read()
    // What was there is unchanged, in order; nothing was removed.
    assert.deepEqual(after.slice(0, before.length), before)
    assert.equal(after.length, before.length + 8)
    assert.ok(after.slice(before.length).every((e) => e.outcome === 'refused' && e.role === 'admin'))
    assert.equal((await f.call('GET', '/api/audit', { token: f.token.admin })).status, 200)
  } finally {
    await f.close()
  }
})

test('the live stream sends metrics snapshots and the job events as Server-Sent Events', async () => {
  const f = await fixture()
  try {
    const res = await f.call('GET', '/api/jobs/clicks/stream', { token: f.token.viewer })
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    void f.call('POST', '/api/jobs/clicks/checkpoint', { token: f.token.operator })
    while (!/event: job\ndata: \{"type":"checkpoint-completed"/.test(text)) {
      const { value, done } = await reader.read()
      if (done) break
      text += value
    }
    await reader.cancel()
    assert.match(text, /event: metrics\ndata: \{"status":\{"status":"running"/)
    assert.match(text, /event: job\ndata: \{"type":"checkpoint-completed"/)
  } finally {
    await f.close()
  }
})

test('a request body over 64 KiB is refused with 413 and nothing happens; the attempt is audited, and without a token it is a 401', async () => {
  const f = await fixture()
  try {
    const res = await f.call('POST', '/api/tokens', { token: f.token.admin, body: { role: 'viewer', pad: 'x'.repeat(100_000) } })
    assert.equal(res.status, 413)
    assert.equal(f.tokens.list().length, 3)
    assert.equal((await f.call('POST', '/api/tokens', { body: { role: 'admin', pad: 'x'.repeat(100_000) } })).status, 401)
    assert.deepEqual((await f.audit.read()).map((e) => [e.method, e.path, e.role, e.status]), [
      ['POST', '/api/tokens', 'admin', 413],
      ['POST', '/api/tokens', null, 401],
    ])
  } finally {
    await f.close()
  }
})

test('a savepoint of a real job that runs without checkpoints is a 409 that says why, and is audited as failed', async () => {
  const { start } = await import('../../src/runtime/run.ts')
  const { pipeline, source, sink } = await import('../../src/index.ts')
  const { controlPlane } = await import('../../src/server/app.ts')
  const f = await fixture()
  const job = start(pipeline('ticks').from(source.generator({ make: (g) => ({ n: g.seq }), ratePerSecond: 50 })).to(sink.blackhole()).pipeline)
  try {
    const app = controlPlane({ jobs: new Map([['ticks', job]]), tokens: f.tokens, audit: f.audit, savepointDir: f.dir })
    const res = await app.request('/api/jobs/ticks/savepoint', { method: 'POST', headers: { authorization: `Bearer ${f.token.operator}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'v1' }) })
    assert.equal(res.status, 409)
    const body = (await res.json()) as { error: { code: string; message: string } }
    assert.equal(body.error.code, 'SLUICE_NO_CHECKPOINTS')
    assert.match(body.error.message, /--checkpoint-dir/)
    assert.equal((await f.audit.read()).at(-1)!.outcome, 'failed')
  } finally {
    await job.stop().catch(() => {})
    await f.close()
  }
})
