// Traces of a job over OTLP/HTTP, received by a collector this test starts on loopback and decoded.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pipeline, sink, source } from '../../src/index.ts'
import { start } from '../../src/runtime/run.ts'
import { traceJob } from '../../src/runtime/job/job-tracer.ts'

interface Span {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: { key: string; value: Record<string, unknown> }[]
  status: { code: number }
}

test('a job with checkpoints is traced: a job span, and a child span per checkpoint with its figures', { timeout: 300_000 }, async (t) => {
  const received: { resource: unknown; spans: Span[] }[] = []
  const collector = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => (body += d))
    req.on('end', () => {
      assert.equal(req.url, '/v1/traces')
      assert.equal(req.headers['content-type'], 'application/json')
      const r = JSON.parse(body) as { resourceSpans: { resource: unknown; scopeSpans: { spans: Span[] }[] }[] }
      for (const rs of r.resourceSpans) received.push({ resource: rs.resource, spans: rs.scopeSpans.flatMap((s) => s.spans) })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
  t.after(() => collector.close())
  const dir = mkdtempSync(join(tmpdir(), 'sluice-otlp-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))

  const p = pipeline('traced')
  p.from(source.generator({ count: 3000, ratePerSecond: 3000, make: (g) => ({ n: g.seq }) })).to(sink.blackhole())
  const job = start(p, { checkpoint: { dir: join(dir, 'chk'), intervalMs: 100 } })
  const tracer = traceJob(job, { endpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}` })
  await job.done
  await tracer.flush()
  const spans = () => received.flatMap((r) => r.spans)
  for (let i = 0; i < 100 && !spans().some((s) => s.name === 'job'); i++) await new Promise((r) => setTimeout(r, 100))

  const all = spans()
  const root = all.find((s) => s.name === 'job')
  assert.ok(root !== undefined, 'the job span arrived')
  assert.equal(root.parentSpanId, undefined)
  assert.equal(root.status.code, 1)
  const checkpoints = all.filter((s) => s.name === 'checkpoint')
  assert.ok(checkpoints.length >= 1, 'checkpoints are traced')
  for (const s of all) assert.equal(s.traceId, tracer.traceId)
  for (const s of checkpoints) {
    assert.equal(s.parentSpanId, root.spanId)
    assert.ok(BigInt(s.startTimeUnixNano) <= BigInt(s.endTimeUnixNano))
    const keys = s.attributes.map((a) => a.key)
    for (const k of ['sluice.pipeline', 'sluice.checkpoint.id', 'sluice.checkpoint.bytes', 'sluice.checkpoint.alignment_ms']) assert.ok(keys.includes(k), k)
  }
  assert.ok(BigInt(root.startTimeUnixNano) <= BigInt(checkpoints[0].startTimeUnixNano) + 1_000_000n)
  assert.deepEqual(received[0].resource, { attributes: [{ key: 'service.name', value: { stringValue: 'sluice' } }, { key: 'sluice.pipeline', value: { stringValue: 'traced' } }] })
  assert.match(root.spanId, /^[0-9a-f]{16}$/)
  assert.match(root.traceId, /^[0-9a-f]{32}$/)
})
