import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixture } from './support.ts'

test('workflows: every workflow with its run counts, and one with its DAG and partition grid', async () => {
  const f = await fixture()
  try {
    const get = async (path: string) => {
      const res = await f.call('GET', path, { token: f.token.viewer })
      assert.equal(res.status, 200, path)
      return (await res.json()) as any
    }
    const [daily, ...rest] = await get('/api/workflows')
    assert.equal(rest.length, 0)
    assert.equal(daily.name, 'daily')
    assert.deepEqual([daily.runs.succeeded, daily.runs.failed, daily.runs.upstream_failed], [2, 1, 1])
    const wf = await get('/api/workflows/daily')
    assert.deepEqual(wf.tasks.map((t: { name: string; dependsOn: string[] }) => [t.name, t.dependsOn]), [['load', []], ['publish', ['load']]])
    assert.deepEqual(wf.partitions, ['2026-01-01', '2026-01-02'])
    const cell = (task: string, p: string) => wf.runs.find((r: { task: string; partition: string }) => r.task === task && r.partition === p)
    assert.equal(cell('load', '2026-01-02').status, 'failed')
    assert.equal(cell('load', '2026-01-02').error, 'no file')
    assert.equal(cell('publish', '2026-01-02').status, 'upstream_failed')
    assert.equal(cell('publish', '2026-01-01').status, 'succeeded')
    assert.deepEqual((await get('/api/workflows/daily?limit=1')).partitions, ['2026-01-02'])
    assert.equal((await f.call('GET', '/api/workflows/nope', { token: f.token.viewer })).status, 404)
    assert.equal((await f.call('GET', '/api/workflows/daily?limit=0', { token: f.token.viewer })).status, 400)
  } finally {
    await f.close()
  }
})
