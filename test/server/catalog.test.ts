import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixture } from './support.ts'

test('the catalog is served: datasets with personal and masked fields, one dataset with its lineage, jobs and the graph', async () => {
  const f = await fixture()
  try {
    const get = async (path: string) => {
      const res = await f.call('GET', path, { token: f.token.viewer })
      assert.equal(res.status, 200, path)
      return (await res.json()) as any
    }
    const all = await get('/api/catalog/datasets')
    assert.deepEqual(all.map((d: { key: string }) => d.key), ['file:/in/clicks.jsonl', 'file:/out/clicks.jsonl'])
    assert.deepEqual((await get('/api/catalog/datasets?tag=personal')).map((d: { key: string }) => d.key), ['file:/in/clicks.jsonl'])
    const out = await get(`/api/catalog/datasets/${encodeURIComponent('file:/out/clicks.jsonl')}`)
    assert.deepEqual(out.masked, ['email'])
    assert.deepEqual(out.fields.map((x: { name: string; masked?: boolean }) => [x.name, x.masked === true]), [['n', false], ['email', true]])
    assert.deepEqual(out.upstream, ['file:/in/clicks.jsonl'])
    const input = await get(`/api/catalog/datasets/${encodeURIComponent('file:/in/clicks.jsonl')}`)
    assert.deepEqual(input.personal, ['email'])
    assert.deepEqual(input.downstream, ['file:/out/clicks.jsonl'])
    assert.equal((await get('/api/catalog/jobs/clicks')).lastRun.state, 'completed')
    const graph = await get('/api/catalog/graph')
    assert.deepEqual(graph.edges, [{ from: 'dataset:file:/in/clicks.jsonl', to: 'job:sluice/clicks' }, { from: 'job:sluice/clicks', to: 'dataset:file:/out/clicks.jsonl' }])
    assert.equal(graph.nodes.find((n: { id: string }) => n.id === 'dataset:file:/out/clicks.jsonl').masked, true)
    const missing = await f.call('GET', `/api/catalog/datasets/${encodeURIComponent('file:/nowhere')}`, { token: f.token.viewer })
    assert.equal(missing.status, 404)
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'SLUICE_NOT_FOUND')
  } finally {
    await f.close()
  }
})
