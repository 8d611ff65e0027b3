import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { test } from 'node:test'
import { TokenStore } from '../../src/server/tokens.ts'
import { T0, fixture } from './support.ts'

type Letters = { topic: string; next: number; letters: { offset: number; step: string; reason: string; error: { message: string }; record: { n: number; email: string } }[] }

test('dead letters: list with reasons and personal fields masked, show one, redrive once per target (operator only)', async () => {
  const f = await fixture()
  try {
    const list = (await (await f.call('GET', '/api/jobs/clicks/dead-letters', { token: f.token.viewer })).json()) as Letters
    assert.equal(list.topic, 'clicks.dlq')
    assert.deepEqual(list.letters.map((l) => [l.offset, l.step, l.reason, l.record.n, l.record.email]), [[0, 'parse', 'user-function', 1, '***'], [1, 'parse', 'user-function', 2, '***']])
    assert.match(list.letters[0]!.error.message, /bad amount/)
    const page = (await (await f.call('GET', '/api/jobs/clicks/dead-letters?from=1&limit=1', { token: f.token.viewer })).json()) as Letters
    assert.deepEqual(page.letters.map((l) => l.offset), [1])
    const one = (await (await f.call('GET', '/api/jobs/clicks/dead-letters/1', { token: f.token.viewer })).json()) as Letters['letters'][number]
    assert.equal(one.record.n, 2)
    assert.equal((await f.call('GET', '/api/jobs/clicks/dead-letters/9', { token: f.token.viewer })).status, 404)
    assert.equal((await f.call('GET', '/api/jobs/clicks/dead-letters/x', { token: f.token.viewer })).status, 400)

    assert.equal((await f.call('POST', '/api/jobs/clicks/dead-letters/redrive', { token: f.token.viewer, body: { file: 'again.jsonl' } })).status, 403)
    assert.equal((await f.call('POST', '/api/jobs/clicks/dead-letters/redrive', { token: f.token.operator, body: { file: '../x' } })).status, 400)
    assert.equal((await f.call('POST', '/api/jobs/clicks/dead-letters/redrive', { token: f.token.operator, body: { file: 'a', topic: 'b' } })).status, 400)
    const r1 = (await (await f.call('POST', '/api/jobs/clicks/dead-letters/redrive', { token: f.token.operator, body: { file: 'again.jsonl' } })).json()) as { redriven: number }
    assert.equal(r1.redriven, 2)
    const lines = (await readFile(`${f.dir}/redrive/again.jsonl`, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { n: number })
    assert.deepEqual(lines.map((l) => l.n), [1, 2])
    const r2 = (await (await f.call('POST', '/api/jobs/clicks/dead-letters/redrive', { token: f.token.operator, body: { file: 'again.jsonl' } })).json()) as { redriven: number }
    assert.equal(r2.redriven, 0)
    const toTopic = (await (await f.call('POST', '/api/jobs/clicks/dead-letters/redrive', { token: f.token.operator, body: { topic: 'clicks.retry' } })).json()) as { redriven: number; target: string }
    assert.deepEqual([toTopic.redriven, toTopic.target], [2, 'log:clicks.retry'])
    assert.equal((await f.call('POST', '/api/jobs/clicks/dead-letters/redrive', { token: f.token.operator, body: { topic: 'clicks.dlq' } })).status, 400)
  } finally {
    await f.close()
  }
})

test('late samples carry their reason and watermark, with personal fields masked', async () => {
  const f = await fixture()
  try {
    const late = (await (await f.call('GET', '/api/jobs/clicks/late', { token: f.token.viewer })).json()) as { step: string; seen: number; samples: { reason: string; watermark: number; record: { n: number; email: string } }[] }[]
    assert.deepEqual(late.map((s) => [s.step, s.seen, s.samples[0]!.reason, s.samples[0]!.watermark, s.samples[0]!.record]), [['count', 7, 'window-closed', T0, { n: 9, email: '***' }]])
  } finally {
    await f.close()
  }
})

test('watermarks per partition mark the idle, the stuck and the holding one; the explainer names what holds a window back', async () => {
  const f = await fixture()
  try {
    type P = { partition: number; idle: boolean; stuck: boolean; holding: boolean }
    const wm = (await (await f.call('GET', '/api/jobs/clicks/watermarks', { token: f.token.viewer })).json()) as { sources: { step: string; partitions: P[] }[] }
    assert.deepEqual(wm.sources[0]!.partitions.map((p) => [p.partition, p.idle, p.stuck, p.holding]), [[0, false, false, false], [1, false, true, true], [2, true, false, false]])
    const res = await f.call('GET', `/api/jobs/clicks/explain?step=count&key=eu&time=${T0 + 10}`, { token: f.token.viewer })
    const e = (await res.json()) as { verdict: string; watermark: number; windows: { start: number; end: number; state: string; firesAt: number }[]; holdingPartitions: { partition: number; stuck: boolean }[]; inputs: { from: string; holdingBack: boolean }[] }
    assert.deepEqual(e.windows.map((w) => [w.start, w.end, w.state, w.firesAt]), [[T0, T0 + 1000, 'waiting', T0 + 999]])
    assert.equal(e.watermark, T0 + 500)
    assert.deepEqual(e.holdingPartitions.map((p) => [p.partition, p.stuck]), [[1, true]])
    assert.deepEqual(e.inputs, [{ from: 'read', watermark: T0 + 500, idle: false, holdingBack: true }])
    assert.match(e.verdict, /not fired: fires when the watermark reaches .*499 ms behind; held back by read partition 1 \(stuck\)/)
    const past = (await (await f.call('GET', `/api/jobs/clicks/explain?step=count&key=us&time=${T0 - 5000}`, { token: f.token.viewer })).json()) as { windows: { state: string }[] }
    assert.deepEqual(past.windows.map((w) => w.state), ['closed'])
    assert.equal((await f.call('GET', '/api/jobs/clicks/explain?step=nope&key=eu', { token: f.token.viewer })).status, 404)
    assert.equal((await f.call('GET', '/api/jobs/clicks/explain', { token: f.token.viewer })).status, 400)
  } finally {
    await f.close()
  }
})

test('SLO status from the job metrics; /metrics in the Prometheus format for a viewer token', async () => {
  const f = await fixture()
  try {
    const slo = (await (await f.call('GET', '/api/jobs/clicks/slo', { token: f.token.viewer })).json()) as { slo: string; objective: number; state: string; source: string }[]
    assert.deepEqual(slo.map((s) => [s.slo, s.objective, s.state, s.source]), [['completeness', 0.9, 'unknown', 'local'], ['errors', 0.99, 'unknown', 'local']])
    const res = await f.call('GET', '/metrics', { token: f.token.viewer })
    assert.equal(res.status, 200)
    const text = await res.text()
    assert.match(text, /^# HELP sluice_/m)
    assert.match(text, /sluice_slo_objective_ratio\{pipeline="clicks",slo="errors"\} 0.99/)
    assert.equal((await f.call('GET', '/metrics')).status, 401)
  } finally {
    await f.close()
  }
})

test('a token created while the server runs (sluice token create writes tokens.json) is accepted at once', async () => {
  const f = await fixture()
  try {
    const other = await TokenStore.open(f.tokens.file.replace(/\/tokens\.json$/, ''))
    const { token } = await other.create('viewer')
    assert.equal((await f.call('GET', '/api/jobs', { token })).status, 200)
    // A damaged file keeps the tokens known instead of locking everyone out.
    await writeFile(f.tokens.file, '{ not json')
    assert.equal((await f.call('GET', '/api/jobs', { token: f.token.viewer })).status, 200)
  } finally {
    await f.close()
  }
})
