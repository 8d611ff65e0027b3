// A record read with a traceparent keeps its own context to the sink's headers, even in a batch that mixes
// records of several traces; records without one follow the batch. With the log and Kafka connectors.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pipeline, sink, source } from '../../src/index.ts'
import { run } from '../../src/runtime/run.ts'
import { acquireLog } from '../../src/connectors/log/shared-log.ts'
import { parseTraceparent } from '../../src/observe/trace/context.ts'
import type { KafkaRecord } from '../../src/connectors/kafka/source.ts'
import { bootstrap, broker, createTopic, producer, readAll, topicName } from '../kafka/support.ts'
import { startCollector } from './fixtures/otlp-collector.ts'

const quiet = { logger: { warn: () => undefined } }
const A = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const B = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const C = '00-11111111111111111111111111111111-2222222222222222-00'
/** Record n's traceparent on input: A on the first, B and C further on, none on the others. */
const INPUT: Record<number, string> = { 1: A, 5: B, 6: B, 9: C }

/** Output n (input n * 10) -> its traceparent header. */
async function logOutput(dir: string): Promise<Map<number, string | undefined>> {
  const ref = await acquireLog(dir, quiet)
  try {
    const b = await ref.log.readBatch('out', 0, 0, { maxRecords: 1000 })
    const out = new Map<number, string | undefined>()
    b.values.forEach((v, i) => {
      if (b.headers?.[i]?.['sluice.control'] !== undefined) return
      out.set((JSON.parse(v.toString('utf8')) as { n: number }).n, b.headers?.[i]?.traceparent?.toString('utf8'))
    })
    return out
  } finally {
    await ref.release()
  }
}

async function logPipeline(dir: string, trace?: { endpoint: string; sampleEveryMs: number }) {
  const ref = await acquireLog(dir, quiet)
  await ref.log.createTopic('in')
  await ref.log.append(
    'in',
    0,
    Array.from({ length: 12 }, (_, i) => ({ value: JSON.stringify({ n: i + 1 }), ...(INPUT[i + 1] !== undefined ? { headers: { traceparent: INPUT[i + 1] } } : {}) })),
  )
  await ref.release()
  const p = pipeline('record-trace')
  p.from(source.log<{ n: number }>(dir, 'in', { stopAtEnd: true, log: quiet }))
    .filter((r) => r.n !== 3 && r.n !== 6)
    .map((r) => ({ n: r.n * 10 }))
    .to(sink.log(dir, 'out'))
  await run(p, trace === undefined ? {} : { trace })
  return logOutput(dir)
}

test('log: each record keeps its own trace context through stateless steps, in one batch with others', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-record-trace-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const out = await logPipeline(dir)
  assert.deepEqual([...out.keys()].sort((a, b) => a - b), [10, 20, 40, 50, 70, 80, 90, 100, 110, 120])
  assert.equal(out.get(50), B)
  assert.equal(out.get(90), C, 'a context whose sampled flag is off is carried on as it is')
  // The batch follows its first traced record: records without a context of their own go in its trace.
  for (const n of [10, 20, 40, 70, 80, 100, 110, 120]) assert.equal(out.get(n), A, `record ${n}`)
})

test('log, traced: records of the batch trace point at the sink span, those of other traces keep theirs', { timeout: 120_000 }, async (t) => {
  const collector = await startCollector()
  t.after(() => collector.close())
  const dir = await mkdtemp(join(tmpdir(), 'sluice-record-trace-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const out = await logPipeline(dir, { endpoint: collector.endpoint, sampleEveryMs: 0 })
  const first = parseTraceparent(out.get(10))!
  assert.equal(first.traceId, parseTraceparent(A)!.traceId)
  assert.notEqual(first.spanId, parseTraceparent(A)!.spanId, 'the sink span is the parent of the batch trace records')
  const spans = await collector.until((s) => s.some((x) => x.spanId === first.spanId))
  assert.match(spans.find((s) => s.spanId === first.spanId)!.name, /^sink /)
  assert.equal(out.get(50), B)
  assert.equal(out.get(90), C)
  assert.equal(out.get(20), out.get(10))
})

test('Kafka: records of two traces in one batch each keep theirs to the output topic', { skip: broker.skip, timeout: 180_000 }, async () => {
  const input = topicName('record-trace-in')
  const output = topicName('record-trace-out')
  await createTopic(input)
  await createTopic(output)
  const prod = await producer()
  await prod.send({
    topic: input,
    messages: Array.from({ length: 8 }, (_, i) => ({ value: JSON.stringify({ n: i + 1 }), ...(INPUT[i + 1] !== undefined ? { headers: { traceparent: INPUT[i + 1] } } : {}) })),
  })
  await prod.disconnect()
  const p = pipeline('kafka-record-trace')
  p.from(source.kafka<{ n: number }>({ brokers: bootstrap(), topics: input, stopAtEnd: true, pollInterval: '20ms' }))
    .filter((r) => r.n !== 2)
    .map((r) => ({ n: r.n * 10 }))
    .to(sink.kafka({ brokers: bootstrap(), topic: output }))
  await run(p)
  const [records] = await readAll<KafkaRecord<{ n: number }>>(output, { metadata: true })
  const got = new Map(records.map((r) => [r.value.n, r.headers.traceparent]))
  assert.deepEqual([...got.keys()].sort((a, b) => a - b), [10, 30, 40, 50, 60, 70, 80])
  assert.equal(got.get(10), A)
  assert.equal(got.get(50), B)
  assert.equal(got.get(60), B)
  for (const n of [30, 40, 70, 80]) assert.equal(got.get(n), A, `record ${n} follows the batch`)
})
