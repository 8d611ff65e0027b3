import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixture } from './support.ts'

test('an admin detokenizes through the API, and the call is audited; an unknown token is refused by name; other roles may not', async () => {
  const f = await fixture()
  try {
    const res = await f.call('POST', '/api/vault/detokenize', { token: f.token.admin, body: { tokens: [f.vaultToken, f.vaultToken] } })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { values: ['ada@example.com', 'ada@example.com'] })
    const denied = await f.call('POST', '/api/vault/detokenize', { token: f.token.operator, body: { tokens: [f.vaultToken] } })
    assert.equal(denied.status, 403)
    assert.ok(!(await denied.text()).includes('ada@'))
    const unknown = await f.call('POST', '/api/vault/detokenize', { token: f.token.admin, body: { tokens: ['tok_nope'] } })
    assert.equal(unknown.status, 400)
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'SLUICE_TOKEN_UNKNOWN')
    assert.equal((await f.call('POST', '/api/vault/detokenize', { token: f.token.admin, body: { tokens: [] } })).status, 400)
    const audit = (await f.audit.read()).filter((e) => e.path === '/api/vault/detokenize')
    assert.deepEqual(audit.map((e) => [e.role, e.status, e.outcome]), [['admin', 200, 'ok'], ['operator', 403, 'refused'], ['admin', 400, 'failed'], ['admin', 400, 'failed']])
    assert.ok(!JSON.stringify(audit).includes('ada@'), 'the audit log holds no value')
  } finally {
    await f.close()
  }
})
