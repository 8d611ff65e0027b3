import assert from 'node:assert/strict'
import { test } from 'node:test'
import { noteQualityResults } from '../../src/contracts/quality/results-seen.ts'
import type { QualityResult } from '../../src/contracts/quality/window-checks.ts'
import { T0, fixture } from './support.ts'

const result = (windowStart: number, passed: boolean, failed: number): QualityResult => ({ step: 'check', expectation: 'inRange(age)', kind: 'inRange', field: 'age', severity: 'warn', windowStart, windowEnd: windowStart + 1000, passed, checked: 10, failed, observed: {} })

test("schemas: the contracts of the job's sources with their personal fields and their version in the registry", async () => {
  const f = await fixture()
  try {
    const res = await f.call('GET', '/api/jobs/clicks/schemas', { token: f.token.viewer })
    assert.equal(res.status, 200)
    const [s, ...rest] = (await res.json()) as any[]
    assert.equal(rest.length, 0)
    assert.equal(s.step, 'read')
    assert.equal(s.contract, 'clicks')
    assert.equal(s.subject, 'clicks-value')
    assert.equal(s.owner, 'web')
    assert.deepEqual(s.fields.map((x: { name: string; personal: boolean }) => [x.name, x.personal]), [['n', false], ['email', true]])
    assert.deepEqual(s.registry, { status: 'registered', version: 1, id: 1 })
  } finally {
    await f.close()
  }
})

test('quality: the latest result of each expectation with its totals', async () => {
  const f = await fixture()
  try {
    const none = await f.call('GET', '/api/jobs/clicks/quality', { token: f.token.viewer })
    assert.deepEqual(await none.json(), [])
    noteQualityResults('clicks', [result(T0, true, 0), result(T0 + 1000, false, 3)])
    const res = await f.call('GET', '/api/jobs/clicks/quality', { token: f.token.viewer })
    const [q] = (await res.json()) as any[]
    assert.equal(q.expectation, 'inRange(age)')
    assert.deepEqual([q.windows, q.windowsFailed, q.checked, q.failed], [2, 1, 20, 3])
    assert.equal(q.latest.windowStart, T0 + 1000)
    assert.equal(q.latest.passed, false)
  } finally {
    await f.close()
  }
})
