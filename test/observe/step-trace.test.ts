// Spans per step of sampled batches, and W3C trace context carried from record headers on input to record
// headers on output, received by an OTLP collector the test starts on loopback.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pipeline, sink, source } from '../../src/index.ts'
import { run } from '../../src/runtime/run.ts'
import { acquireLog } from '../../src/connectors/log/shared-log.ts'
import { parseTraceparent } from '../../src/observe/trace/context.ts'
import type { Log } from '../../src/log/log.ts'
import type { KafkaRecord } from '../../src/connectors/kafka/source.ts'
import { bootstrap, broker, createTopic, producer, readAll, topicName } from '../kafka/support.ts'
import { attr, startCollector, type ReceivedSpan } from './fixtures/otlp-collector.ts'

const quiet = { logger: { warn: () => undefined } }
const INCOMING = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** The traceparent header of each data record of a topic (the sink's control records left out). */
async function traceparents(log: Log, topic: string): Promise<(string | undefined)[]> {
  const b = await log.readBatch(topic, 0, 0, { maxRecords: 1000 })
  return b.values.flatMap((_, i) => (b.headers?.[i]?.['sluice.control'] !== undefined ? [] : [b.headers?.[i]?.traceparent?.toString('utf8')]))
}

/** Every span of `trace`, checked to form one tree hanging from `rootParent` (undefined: a trace of its own). */
function tree(spans: ReceivedSpan[], traceId: string, rootParent: string | undefined): ReceivedSpan[] {
  const mine = spans.filter((s) => s.traceId === traceId)
  const ids = new Set(mine.map((s) => s.spanId))
  for (const s of mine) assert.ok(s.parentSpanId === rootParent || ids.has(s.parentSpanId!), `span '${s.name}' hangs from a span of the trace`)
  return mine
}

test('a traceparent on input records is followed: spans per step under it, and the sink writes its own span as the parent', { timeout: 120_000 }, async (t) => {
  const collector = await startCollector()
  t.after(() => collector.close())
  const dir = await mkdtemp(join(tmpdir(), 'sluice-step-trace-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const ref = await acquireLog(dir, quiet)
  await ref.log.createTopic('in')
  await ref.log.append('in', 0, [
    { value: JSON.stringify({ n: 1 }), headers: { traceparent: INCOMING } },
    ...Array.from({ length: 9 }, (_, i) => ({ value: JSON.stringify({ n: i + 2 }) })),
  ])

  const p = pipeline('traced-steps')
  p.from(source.log<{ n: number }>(dir, 'in', { stopAtEnd: true, log: quiet }))
    .map((r) => ({ n: r.n * 2 }))
    .keyBy((r) => r.n % 2)
    .reduce((a, b) => ({ n: a.n + b.n }))
    .to(sink.log(dir, 'out'))
  // No batch without context starts a trace here: only the incoming one is followed.
  await run(p, { trace: { endpoint: collector.endpoint, sampleEveryMs: 0 } })

  const written = await traceparents(ref.log, 'out')
  await ref.release()
  assert.ok(written.length > 0 && written.every((h) => h !== undefined), 'every output record carries a traceparent')
  const ctx = parseTraceparent(written[0])!
  assert.equal(ctx.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'the output continues the incoming trace')
  assert.equal(ctx.sampled, true)

  const spans = tree(await collector.until((s) => s.some((x) => x.spanId === ctx.spanId)), ctx.traceId, '00f067aa0ba902b7')
  const names = spans.map((s) => s.name)
  assert.ok(names.some((n) => n.startsWith('source ')), `a source span: ${names.join(', ')}`)
  assert.ok(names.some((n) => n.startsWith('step ')), 'spans of the steps between')
  const sinkSpan = spans.find((s) => s.spanId === ctx.spanId)
  assert.ok(sinkSpan !== undefined && sinkSpan.name.startsWith('sink '), 'the span written as the output records parent is the sink span')
  const source0 = spans.find((s) => s.name.startsWith('source '))!
  assert.equal(source0.parentSpanId, '00f067aa0ba902b7', 'the source span hangs from the incoming span')
  assert.equal(attr(source0, 'sluice.records'), '10')
  for (const s of spans) {
    assert.equal(s.status.code, 1)
    assert.ok(BigInt(s.startTimeUnixNano) <= BigInt(s.endTimeUnixNano))
    for (const a of s.attributes) assert.ok(a.key.startsWith('sluice.'), a.key)
  }
})

test('batches without context are sampled into traces of their own, within the span budget', { timeout: 120_000 }, async (t) => {
  const collector = await startCollector()
  t.after(() => collector.close())
  const p = pipeline('sampled-steps')
  p.from(source.generator({ count: 2000, make: (g) => ({ n: g.seq }) }))
    .filter((r) => r.n % 3 !== 0)
    .to(sink.blackhole())
  await run(p, { trace: { endpoint: collector.endpoint, sampleEveryMs: 1, maxSpansPerSecond: 10 } })
  const spans = await collector.until((s) => s.length > 0)
  const roots = spans.filter((s) => s.parentSpanId === undefined)
  assert.ok(roots.length >= 1, 'a sampled batch starts a trace at its source')
  for (const r of roots) {
    assert.match(r.name, /^source /)
    const mine = tree(spans, r.traceId, undefined)
    assert.equal(mine.filter((s) => s.parentSpanId === undefined).length, 1, 'one root per trace')
  }
  // 10 spans a second at most (two seconds' budgets at a second's edge), however many batches went by.
  const perSecond = new Map<bigint, number>()
  for (const s of spans) {
    const sec = BigInt(s.startTimeUnixNano) / 1_000_000_000n
    perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1)
  }
  for (const n of perSecond.values()) assert.ok(n <= 10, `at most 10 spans a second, got ${n}`)
})

test('without an endpoint, the context on input still reaches the output headers unchanged', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-step-trace-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const ref = await acquireLog(dir, quiet)
  await ref.log.createTopic('in')
  await ref.log.append('in', 0, [{ value: '{"n":1}', headers: { traceparent: INCOMING } }])
  const p = pipeline('untraced-steps')
  p.from(source.log<{ n: number }>(dir, 'in', { stopAtEnd: true, log: quiet })).map((r) => r).to(sink.log(dir, 'out'))
  await run(p)
  const written = await traceparents(ref.log, 'out')
  await ref.release()
  assert.deepEqual(written, [INCOMING])
})

test('Kafka: a traceparent header on input reaches the output topic under the sink span', { skip: broker.skip, timeout: 180_000 }, async (t) => {
  const collector = await startCollector()
  t.after(() => collector.close())
  const input = topicName('trace-in')
  const output = topicName('trace-out')
  await createTopic(input)
  await createTopic(output)
  const prod = await producer()
  await prod.send({ topic: input, messages: [{ value: '{"n":1}', headers: { traceparent: INCOMING } }, { value: '{"n":2}' }] })
  await prod.disconnect()
  const p = pipeline('kafka-traced')
  p.from(source.kafka<{ n: number }>({ brokers: bootstrap(), topics: input, stopAtEnd: true, pollInterval: '20ms' }))
    .map((r) => ({ n: r.n + 1 }))
    .to(sink.kafka({ brokers: bootstrap(), topic: output }))
  await run(p, { trace: { endpoint: collector.endpoint, sampleEveryMs: 0 } })
  const [records] = await readAll<KafkaRecord<{ n: number }>>(output, { metadata: true })
  assert.deepEqual(records.map((r) => r.value.n).sort(), [2, 3])
  const ctx = parseTraceparent(records[0].headers.traceparent)!
  assert.equal(ctx.traceId, '4bf92f3577b34da6a3ce929d0e0e4736')
  const spans = tree(await collector.until((s) => s.some((x) => x.spanId === ctx.spanId)), ctx.traceId, '00f067aa0ba902b7')
  assert.match(spans.find((s) => s.spanId === ctx.spanId)!.name, /^sink /)
})

test('HTTP ingest: the traceparent of a POST goes with its records to the output', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-step-trace-'))
  let port = 0
  const stop = new AbortController()
  const p = pipeline('http-traced')
  const listening = new Promise<void>((resolve) => {
    p.from(source.http<{ n: number }>({ port: 0, logDir: join(dir, 'ingest'), onListen: (x) => ((port = x), resolve()) })).to(sink.log(join(dir, 'log'), 'out'))
  })
  const done = run(p, { signal: stop.signal })
  const ref = await acquireLog(join(dir, 'log'), quiet)
  t.after(async () => {
    stop.abort()
    await done
    await ref.release()
    await rm(dir, { recursive: true, force: true })
  })
  await listening
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{"n":1}\n{"n":2}', headers: { 'content-type': 'application/x-ndjson', traceparent: INCOMING } })
  assert.equal(res.status, 200)
  let written: (string | undefined)[] = []
  for (let i = 0; i < 100 && written.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 100))
    if (ref.log.listTopics().includes('out')) written = await traceparents(ref.log, 'out')
  }
  assert.deepEqual(written, [INCOMING, INCOMING])
})
