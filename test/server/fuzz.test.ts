import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { openApiDocument } from '../../src/server/routes.ts'
import { fixture } from './support.ts'

type Param = { name: string; in: 'path' | 'query'; required: boolean }
const doc = openApiDocument()
const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => {
    const o = op as { 'x-role': string; parameters?: Param[] }
    return { path, method, role: o['x-role'], params: o.parameters ?? [] }
  }),
)
const RANK: Record<string, number> = { none: -1, bad: -1, viewer: 0, operator: 1, admin: 2 }

/** Bodies of every shape: JSON values, near-valid objects, and text that is not JSON at all. */
const anyBody = fc.oneof(
  fc.jsonValue(),
  fc.record({ name: fc.oneof(fc.string(), fc.constant('sp'), fc.integer()), stop: fc.oneof(fc.boolean(), fc.string()) }, { requiredKeys: [] }),
  fc.record({ role: fc.oneof(fc.constantFrom('viewer', 'operator', 'admin', 'root'), fc.string()) }, { requiredKeys: [] }),
  fc.record({ topic: fc.oneof(fc.string(), fc.constant('clicks.dlq')), file: fc.oneof(fc.string(), fc.constant('out.jsonl')), from: fc.oneof(fc.integer(), fc.string()) }, { requiredKeys: [] }),
  fc.record({ records: fc.oneof(fc.constantFrom('masked', 'operators'), fc.string()), jobs: fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('clicks', 'nope', ''), fc.record({ checkpointInterval: fc.oneof(fc.constantFrom('1s', '0', '50ms', '1h30m', 'soon'), fc.string()) }, { requiredKeys: [] }))) }, { requiredKeys: [] }),
  fc.string().map((s) => ({ raw: s })),
)
/** A value for any path or query parameter: a name the fixture knows, a number, or any text. */
const anyValue = fc.oneof(
  fc.constantFrom('clicks', 'count', 'eu', 'daily', '0', '1', '-1', '1e3', 'NaN', '9007199254740993', encodeURIComponent('file:/in/clicks.jsonl')),
  fc.integer().map(String),
  fc.string({ maxLength: 16 }),
)
/** Each parameter of an operation given a value or left out (a required path parameter is always there). */
const anyParams = fc.dictionary(fc.constantFrom('job', 'offset', 'id', 'key', 'workflow', 'step', 'time', 'from', 'limit', 'q', 'tag', 'field'), fc.option(anyValue, { nil: undefined }))

const files = (dir: string) => {
  try {
    return readdirSync(dir).sort().join(',')
  } catch {
    return ''
  }
}

test('fuzzing every operation of the OpenAPI document, with its path and query parameters: no 500, and nothing changes without the role', async () => {
  const f = await fixture()
  try {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations), fc.constantFrom('none', 'bad', 'viewer', 'operator', 'admin'), anyParams, anyBody, async (op, caller, values, body) => {
        const before = { tokens: f.tokens.list().length, checkpoints: f.runner.checkpoints.length, interval: f.handle.checkpointInterval(), records: f.settings.records, status: f.handle.status().status, savepoints: files(join(f.dir, 'savepoints')), redrive: files(join(f.dir, 'redrive')) }
        const token = caller === 'none' ? undefined : caller === 'bad' ? 'slc_x' : f.token[caller as 'viewer']
        let path = op.path
        const query = new URLSearchParams()
        for (const p of op.params) {
          const v = values[p.name] ?? (p.in === 'path' ? 'clicks' : undefined)
          if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(v!))
          else if (v !== undefined) query.set(p.name, v)
        }
        const raw = typeof body === 'object' && body !== null && 'raw' in body && Object.keys(body).length === 1 ? String(body.raw) : body
        const url = query.size > 0 ? `${path}?${query}` : path
        const res = await f.call(op.method.toUpperCase(), url, { ...(token !== undefined ? { token } : {}), ...(op.method === 'post' || op.method === 'patch' ? { body: raw } : {}) })
        await res.body?.cancel()
        assert.ok(res.status < 500, `${op.method} ${url} as ${caller}: ${res.status}`)
        if (RANK[caller]! < RANK[op.role]!) {
          // 404: a path no route matches (an empty segment), refused whoever asks.
          assert.ok(res.status === 401 || res.status === 403 || res.status === 404, `${op.method} ${url} as ${caller}: ${res.status}`)
          const after = { tokens: f.tokens.list().length, checkpoints: f.runner.checkpoints.length, interval: f.handle.checkpointInterval(), records: f.settings.records, status: f.handle.status().status, savepoints: files(join(f.dir, 'savepoints')), redrive: files(join(f.dir, 'redrive')) }
          assert.deepEqual(after, before, `${op.method} ${url} as ${caller} changed something`)
        }
      }),
      { numRuns: 400 },
    )
  } finally {
    await f.close()
  }
})

test('the OpenAPI document lists the query parameters the routes validate, and a bad one is a 400', async () => {
  const f = await fixture()
  try {
    const explain = operations.find((o) => o.path === '/api/jobs/{job}/explain')!
    assert.deepEqual(explain.params.filter((p) => p.in === 'query').map((p) => [p.name, p.required]), [['step', true], ['key', false], ['time', false]])
    const letters = operations.find((o) => o.path === '/api/jobs/{job}/dead-letters')!
    assert.deepEqual(letters.params.filter((p) => p.in === 'query').map((p) => p.name), ['from', 'limit'])
    for (const url of ['/api/jobs/clicks/explain?key=eu', '/api/jobs/clicks/explain?step=count&time=soon', '/api/jobs/clicks/dead-letters?limit=0', '/api/jobs/clicks/dead-letters?from=1.5', '/api/audit?limit=10001', '/api/workflows/daily?limit=x']) {
      const res = await f.call('GET', url, { token: f.token.admin })
      assert.equal(res.status, 400, url)
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /^invalid query: /)
    }
    assert.equal((await f.call('GET', '/api/jobs/clicks/dead-letters?from=1&limit=1', { token: f.token.viewer })).status, 200)
  } finally {
    await f.close()
  }
})
