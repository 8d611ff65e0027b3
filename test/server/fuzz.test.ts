import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { openApiDocument } from '../../src/server/routes.ts'
import { fixture } from './support.ts'

const doc = openApiDocument()
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, role: (op as { 'x-role': string })['x-role'] })))
const RANK: Record<string, number> = { none: -1, bad: -1, viewer: 0, operator: 1, admin: 2 }

/** Bodies of every shape: JSON values, near-valid objects, and text that is not JSON at all. */
const anyBody = fc.oneof(
  fc.jsonValue(),
  fc.record({ name: fc.oneof(fc.string(), fc.constant('sp'), fc.integer()), stop: fc.oneof(fc.boolean(), fc.string()) }, { requiredKeys: [] }),
  fc.record({ role: fc.oneof(fc.constantFrom('viewer', 'operator', 'admin', 'root'), fc.string()) }, { requiredKeys: [] }),
  fc.string().map((s) => ({ raw: s })),
)

test('fuzzing every operation of the OpenAPI document: no 500, and nothing changes without the role', async () => {
  const f = await fixture()
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...operations),
        fc.constantFrom('none', 'bad', 'viewer', 'operator', 'admin'),
        fc.oneof(fc.constant('clicks'), fc.string({ maxLength: 12 })),
        anyBody,
        async (op, caller, job, body) => {
          const tokensBefore = f.tokens.list().length
          const checkpointsBefore = f.runner.checkpoints.length
          const token = caller === 'none' ? undefined : caller === 'bad' ? 'slc_x' : f.token[caller as 'viewer']
          const path = op.path.replace('{job}', encodeURIComponent(job))
          const raw = typeof body === 'object' && body !== null && 'raw' in body && Object.keys(body).length === 1 ? String(body.raw) : body
          const res = await f.call(op.method.toUpperCase(), path, { ...(token !== undefined ? { token } : {}), ...(op.method === 'post' ? { body: raw } : {}) })
          await res.body?.cancel()
          assert.ok(res.status < 500, `${op.method} ${path} as ${caller}: ${res.status}`)
          const allowed = RANK[caller]! >= RANK[op.role]!
          if (!allowed) {
            assert.ok(res.status === 401 || res.status === 403 || res.status === 404, `${op.method} ${path} as ${caller}: ${res.status}`)
            assert.equal(f.tokens.list().length, tokensBefore)
            assert.equal(f.runner.checkpoints.length, checkpointsBefore)
          }
        },
      ),
      { numRuns: 300 },
    )
  } finally {
    await f.close()
  }
})
