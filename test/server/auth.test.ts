import assert from 'node:assert/strict'
import { test } from 'node:test'
import { routes } from '../../src/server/routes.ts'
import { fixture } from './support.ts'

/** What each caller gets on each route: the table the issue asks for. */
const expected: Record<string, Record<'none' | 'bad' | 'viewer' | 'operator' | 'admin', number>> = {
  'GET /api/whoami': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/metrics': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/graph': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/checkpoints': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/stream': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'POST /api/jobs/:job/checkpoint': { none: 401, bad: 401, viewer: 403, operator: 200, admin: 200 },
  'POST /api/jobs/:job/savepoint': { none: 401, bad: 401, viewer: 403, operator: 200, admin: 200 },
  // After the checkpoints above: checkpoint 1 is in the history.
  'GET /api/jobs/:job/checkpoints/:id': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  // The last one: after the operator's stop the admin's finds the job stopping.
  'POST /api/jobs/:job/stop': { none: 401, bad: 401, viewer: 403, operator: 200, admin: 409 },
  'GET /api/jobs/:job/errors': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/slo': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/watermarks': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/explain': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/late': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/dead-letters': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/dead-letters/:offset': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'POST /api/jobs/:job/dead-letters/redrive': { none: 401, bad: 401, viewer: 403, operator: 200, admin: 200 },
  'GET /api/jobs/:job/schemas': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/jobs/:job/quality': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/catalog/datasets': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/catalog/datasets/:key': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/catalog/jobs': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/catalog/jobs/:key': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/catalog/graph': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/workflows': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/workflows/:workflow': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /metrics': { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 },
  'GET /api/audit': { none: 401, bad: 401, viewer: 403, operator: 403, admin: 200 },
  'GET /api/settings': { none: 401, bad: 401, viewer: 403, operator: 403, admin: 200 },
  'PATCH /api/settings': { none: 401, bad: 401, viewer: 403, operator: 403, admin: 200 },
  'GET /api/tokens': { none: 401, bad: 401, viewer: 403, operator: 403, admin: 200 },
  'POST /api/tokens': { none: 401, bad: 401, viewer: 403, operator: 403, admin: 200 },
  // The admin revokes a spare token made for it.
  'DELETE /api/tokens/:id': { none: 401, bad: 401, viewer: 403, operator: 403, admin: 200 },
  'POST /api/vault/detokenize': { none: 401, bad: 401, viewer: 403, operator: 403, admin: 200 },
}

const bodies: Record<string, (caller: string, f: { vaultToken: string }) => unknown> = {
  'POST /api/vault/detokenize': (_caller, f) => ({ tokens: [f.vaultToken] }),
  'POST /api/jobs/:job/savepoint': (caller) => ({ name: `sp-${caller}` }),
  'POST /api/tokens': () => ({ role: 'viewer' }),
  'PATCH /api/settings': () => ({ records: 'masked' }),
  'POST /api/jobs/:job/dead-letters/redrive': (caller) => ({ file: `again-${caller}.jsonl` }),
}
const queries: Record<string, string> = { 'GET /api/jobs/:job/explain': '?step=count&key=eu' }
const keys: Record<string, string> = { 'GET /api/catalog/datasets/:key': encodeURIComponent('file:/in/clicks.jsonl'), 'GET /api/catalog/jobs/:key': encodeURIComponent('sluice/clicks') }

test('every route answers 401, 403 or 2xx per caller as the table says, and the table covers every route', async () => {
  const f = await fixture()
  try {
    assert.deepEqual(Object.keys(expected).sort(), routes.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort())
    const spare = await f.tokens.create('viewer')
    const ids: Record<string, string> = { 'DELETE /api/tokens/:id': spare.id }
    for (const [key, row] of Object.entries(expected)) {
      const [method, path] = key.split(' ') as [string, string]
      for (const caller of ['none', 'bad', 'viewer', 'operator', 'admin'] as const) {
        const token = caller === 'none' ? undefined : caller === 'bad' ? 'slc_00000000_not-a-token' : f.token[caller]
        const body = bodies[key]?.(caller, f)
        const res = await f.call(method, path.replace(':job', 'clicks').replace(':offset', '0').replace(':id', ids[key] ?? '1').replace(':key', keys[key] ?? '').replace(':workflow', 'daily') + (queries[key] ?? ''), { ...(token !== undefined ? { token } : {}), ...(body !== undefined ? { body } : {}) })
        await res.body?.cancel()
        assert.equal(res.status, row[caller], `${key} as ${caller}`)
      }
    }
  } finally {
    await f.close()
  }
})

test('openapi.json is public and lists every route with its role', async () => {
  const f = await fixture()
  try {
    const res = await f.call('GET', '/openapi.json')
    assert.equal(res.status, 200)
    const doc = (await res.json()) as { paths: Record<string, Record<string, { 'x-role': string }>> }
    for (const r of routes) assert.equal(doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method]?.['x-role'], r.role)
  } finally {
    await f.close()
  }
})

test('tokens are stored hashed: the token file does not hold any token', async () => {
  const f = await fixture()
  try {
    const { readFile } = await import('node:fs/promises')
    const text = await readFile(f.tokens.file, 'utf8')
    for (const t of Object.values(f.token)) assert.ok(!text.includes(t))
    assert.equal(f.tokens.verify(f.token.operator)?.role, 'operator')
  } finally {
    await f.close()
  }
})

test('the dashboard is public, and no route outside /api/ gives data', async () => {
  const f = await fixture()
  try {
    const page = await f.call('GET', '/')
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type')!, /text\/html/)
    assert.match(await page.text(), /<script type="module" src="\/dashboard\/app.js">/)
    const js = await f.call('GET', '/dashboard/app.js')
    assert.equal(js.status, 200)
    assert.match(await js.text(), /\/api\/jobs/)
    assert.deepEqual(await (await f.call('GET', '/api/whoami', { token: f.token.operator })).json(), { id: f.tokens.verify(f.token.operator)!.id, role: 'operator' })
  } finally {
    await f.close()
  }
})

test('a revoked token is refused from the next call on, the revoke is audited, and the last admin token stays', async () => {
  const f = await fixture()
  try {
    const op = f.tokens.verify(f.token.operator)!.id
    assert.equal((await f.call('GET', '/api/jobs', { token: f.token.operator })).status, 200)
    assert.equal((await f.call('DELETE', `/api/tokens/${op}`, { token: f.token.admin })).status, 200)
    assert.equal((await f.call('GET', '/api/jobs', { token: f.token.operator })).status, 401)
    assert.equal((await f.call('DELETE', `/api/tokens/${op}`, { token: f.token.admin })).status, 404)
    assert.ok(!f.tokens.list().some((t) => t.id === op))
    const admin = f.tokens.verify(f.token.admin)!.id
    const last = await f.call('DELETE', `/api/tokens/${admin}`, { token: f.token.admin })
    assert.equal(last.status, 400)
    assert.match(((await last.json()) as { error: { message: string } }).error.message, /last admin token/)
    assert.equal((await f.call('GET', '/api/whoami', { token: f.token.admin })).status, 200)
    assert.deepEqual((await f.audit.read()).map((e) => [e.method, e.path, e.status, e.outcome]), [
      ['DELETE', `/api/tokens/${op}`, 200, 'ok'],
      ['GET', '/api/jobs', 401, 'refused'],
      ['DELETE', `/api/tokens/${op}`, 404, 'failed'],
      ['DELETE', `/api/tokens/${admin}`, 400, 'failed'],
    ])
  } finally {
    await f.close()
  }
})
