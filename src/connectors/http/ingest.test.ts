import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLog } from '../../log/index.ts'
import { IngestServer, parseBody } from './ingest.ts'

test('parseBody: an object, an array, NDJSON; a bad line refuses the whole body', () => {
  assert.deepEqual(parseBody('{"a":1}', 'application/json'), ['{"a":1}'])
  assert.deepEqual(parseBody('[{"a":1},{"a":2}]', ''), ['{"a":1}', '{"a":2}'])
  assert.deepEqual(parseBody('{"a":1}\n\n{"a":2}\n', 'application/x-ndjson'), ['{"a":1}', '{"a":2}'])
  assert.deepEqual(parseBody('{"a":1}\n{"a":2}', ''), ['{"a":1}', '{"a":2}'])
  assert.equal(typeof parseBody('{"a":1}\n{"a":', 'application/x-ndjson'), 'string')
  assert.equal(typeof parseBody('nope', 'application/json'), 'string')
})

test('the endpoint: 200 only once stored, 401 without the token, 413 over the limit, 429 when the pipeline lags, 404 elsewhere', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-ingest-'))
  const log = await openLog(dir, { fsync: 'never', logger: { warn: () => undefined } })
  await log.createTopic('t', { partitions: 1 })
  let lag = 0
  const server = new IngestServer({ host: '127.0.0.1', port: 0, path: '/in', token: 'tok', maxBodyBytes: 100, maxLag: 10, log, topic: 't', lag: () => lag })
  const port = await server.listen()
  const post = (body: string, headers: Record<string, string> = { authorization: 'Bearer tok' }, path = '/in') =>
    fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers }).then(async (r) => ({ status: r.status, body: await r.text(), retryAfter: r.headers.get('retry-after') }))
  try {
    assert.equal((await post('[{"n":1},{"n":2}]')).body, '{"accepted":2}')
    const stored = await log.readBatch('t', 0, 0)
    assert.deepEqual(stored.values.map((v) => v.toString()), ['{"n":1}', '{"n":2}'])
    assert.equal((await post('{"n":3}', {})).status, 401)
    assert.equal((await post('{"n":3}', { authorization: 'Bearer nope' })).status, 401)
    assert.equal((await post(JSON.stringify({ s: 'x'.repeat(200) }))).status, 413)
    assert.equal((await post('{"n":', { authorization: 'Bearer tok' })).status, 400)
    assert.equal((await post('{"n":3}', { authorization: 'Bearer tok' }, '/other')).status, 404)
    lag = 10
    const busy = await post('{"n":3}')
    assert.equal(busy.status, 429)
    assert.equal(busy.retryAfter, '1')
    assert.equal((await log.readBatch('t', 0, 0)).values.length, 2, 'nothing refused was stored')
  } finally {
    await server.close()
    await log.close()
    await rm(dir, { recursive: true, force: true })
  }
})
