import { parseArgs } from 'node:util'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pipeline, run, sink, source, watermark } from '../../src/index.ts'
import { createClient } from '../../src/connectors/kafka/client.ts'
import type { NexmarkEvent } from '../../src/connectors/nexmark/index.ts'
import { q5 } from '../nexmark/q5.ts'
import { resultSink } from '../nexmark/results.ts'
import { consume, line, measure, round } from './main.ts'

/**
 * Nexmark q5 over a Kafka topic, beside the broker's limit in the same run: the generated events are written to
 * a topic as JSON (sink.kafka), kafkajs's own consumer reads and parses them (the raw limit), then q5 reads
 * them with source.kafka (event time from `dateTime`, watermark 4 s behind per partition) with exactly-once
 * checkpoints; last, the same q5 on the in-process generator, for what Kafka adds. Events per CPU-second of this
 * process (the broker's CPU is not counted). Needs a broker: `npm run services -- kafka`, or --brokers.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      brokers: { type: 'string', default: '127.0.0.1:59092' },
      events: { type: 'string', default: '1000000' },
      partitions: { type: 'string', default: '3' },
      interval: { type: 'string', default: '1000' },
    },
  })
  const brokers = String(values.brokers)
  const n = Number(values.events)
  const partitions = Number(values.partitions)
  const intervalMs = Number(values.interval)
  const client = createClient({ brokers })
  const input = `bench-nexmark-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`
  const admin = client.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: input, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true })
  const dir = await mkdtemp(join(tmpdir(), 'sluice-kafka-nexmark-'))
  try {
    const fill = pipeline('kafka-nexmark-fill')
    fill.from(source.nexmark({ events: n })).to(sink.kafka({ brokers, topic: input, guarantee: 'at-least-once', key: (e: NexmarkEvent) => String(e.dateTime % partitions) }))
    line({ bench: 'kafka-nexmark-fill', events: n, ...(await measure(n, () => run(fill))) })

    const raw = await measure(n, () => consume(client, input, n))
    line({ bench: 'kafka-raw-consume', client: 'kafkajs 2.2.4', events: n, ...raw })

    const overKafka = resultSink<object>()
    const p = pipeline('kafka-nexmark-q5')
    q5.build(p.from(source.kafka<NexmarkEvent>({ brokers, topics: input, stopAtEnd: true, eventTime: (e) => e.dateTime, watermark: watermark.boundedOutOfOrder('4s') }))).to(overKafka)
    let checkpoints = 0
    const q5Kafka = await measure(n, async () => {
      checkpoints = (await run(p, { checkpoint: { dir: join(dir, 'kafka'), intervalMs } })).checkpoints?.completed ?? 0
    })
    line({ bench: 'kafka-nexmark-q5', events: n, checkpoints, results: overKafka.records, ...q5Kafka, rawConsumePerCpuSecond: raw.recordsPerCpuSecond, ratioToRawConsume: round(raw.recordsPerCpuSecond / q5Kafka.recordsPerCpuSecond) })

    const inProcess = resultSink<object>()
    const g = pipeline('nexmark-q5')
    q5.build(g.from(source.nexmark({ events: n }))).to(inProcess)
    const q5Gen = await measure(n, async () => void (await run(g, { checkpoint: { dir: join(dir, 'generator'), intervalMs } })))
    line({ bench: 'nexmark-q5-generator', events: n, results: inProcess.records, ...q5Gen, kafkaCostPerEventMicros: round(1e6 / q5Kafka.recordsPerCpuSecond - 1e6 / q5Gen.recordsPerCpuSecond) })
  } finally {
    await rm(dir, { recursive: true, force: true })
    await admin.deleteTopics({ topics: [input] }).catch(() => undefined)
    await admin.disconnect()
  }
}
