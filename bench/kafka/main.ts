import { parseArgs } from 'node:util'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pipeline, run, sink, source } from '../../src/index.ts'
import { createClient, defaultPartitioner, type KafkaClient } from '../../src/connectors/kafka/client.ts'

/**
 * Kafka to Kafka pass-through with exactly-once on, beside the client's raw rates in the same run: kafkajs
 * producing the input (idempotent, acks=all), kafkajs consuming it (a consumer group, eachBatch), then the
 * Sluice pipeline source.kafka -> map -> sink.kafka with checkpoints (transactions). One JSON line per
 * measurement: records/s and records per CPU-second of this process (the broker's CPU is not counted).
 * Needs a broker: `npm run services -- kafka`, or --brokers.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      brokers: { type: 'string', default: '127.0.0.1:59092' },
      records: { type: 'string', default: '300000' },
      partitions: { type: 'string', default: '3' },
      interval: { type: 'string', default: '1000' },
    },
  })
  const brokers = String(values.brokers)
  const n = Number(values.records)
  const partitions = Number(values.partitions)
  const client = createClient({ brokers })
  const tag = `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`
  const input = `bench-in-${tag}`
  const output = `bench-out-${tag}`
  const admin = client.admin()
  await admin.connect()
  await admin.createTopics({ topics: [input, output].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })), waitForLeaders: true })

  const produced = await measure(n, () => produce(client, input, n, partitions))
  line({ bench: 'kafka-raw-produce', client: 'kafkajs 2.2.4', records: n, ...produced })
  const consumed = await measure(n, () => consume(client, input, n))
  line({ bench: 'kafka-raw-consume', client: 'kafkajs 2.2.4', records: n, ...consumed })
  const rawBoth = 1 / (1 / produced.recordsPerCpuSecond + 1 / consumed.recordsPerCpuSecond)

  const dir = await mkdtemp(join(tmpdir(), 'sluice-kafka-bench-'))
  try {
    const p = pipeline('kafka-pass-through')
    p.from(source.kafka<{ n: number; pad: string }>({ brokers, topics: input, stopAtEnd: true }))
      .map((r) => ({ n: r.n + 1, pad: r.pad }))
      .to(sink.kafka({ brokers, topic: output, key: (r) => String(r.n) }))
    let checkpoints = 0
    const through = await measure(n, async () => {
      const s = await run(p, { checkpoint: { dir, intervalMs: Number(values.interval) } })
      checkpoints = s.checkpoints?.completed ?? 0
    })
    line({
      bench: 'kafka-pass-through-exactly-once',
      records: n,
      checkpoints,
      ...through,
      rawConsumePlusProducePerCpuSecond: Math.round(rawBoth),
      ratioToRaw: round(rawBoth / through.recordsPerCpuSecond),
      target: 'within 2x of raw consume+produce',
      meetsTarget: rawBoth / through.recordsPerCpuSecond <= 2,
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
    await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined)
    await admin.disconnect()
  }
}

async function produce(client: KafkaClient, topic: string, n: number, partitions: number): Promise<void> {
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: defaultPartitioner })
  await producer.connect()
  const pad = 'x'.repeat(80)
  const batch = 5000
  for (let from = 0; from < n; from += batch) {
    const messages = Array.from({ length: Math.min(batch, n - from) }, (_, i) => ({ partition: (from + i) % partitions, value: JSON.stringify({ n: from + i, pad }) }))
    await producer.send({ topic, messages, acks: -1 })
  }
  await producer.disconnect()
}

/** kafkajs's own consumer: group join, then eachBatch until every record arrived. */
export async function consume(client: KafkaClient, topic: string, n: number): Promise<void> {
  const consumer = (client as unknown as { consumer(c: Record<string, unknown>): any }).consumer({ groupId: `${topic}-raw`, maxBytesPerPartition: 1 << 20, readUncommitted: false })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  let seen = 0
  let sum = 0
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }: { batch: { messages: { value: Buffer }[] } }) => {
          for (const m of batch.messages) sum += (JSON.parse(m.value.toString('utf8')) as { n: number }).n
          seen += batch.messages.length
          if (seen >= n) resolve()
        },
      })
      .catch(reject)
  })
  await consumer.disconnect()
  if (sum < 0) throw new Error('unreachable')
}

export function line(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`)
}

export function round(x: number): number {
  return Math.round(x * 100) / 100
}

/** Runs `f` and reports its wall and CPU time (of this process) for `n` records. */
export async function measure(n: number, f: () => Promise<unknown>): Promise<{ seconds: number; recordsPerSecond: number; cpuSeconds: number; recordsPerCpuSecond: number }> {
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  await f()
  const s = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  const cpu = (c.user + c.system) / 1e6
  return { seconds: round(s), recordsPerSecond: Math.round(n / s), cpuSeconds: round(cpu), recordsPerCpuSecond: Math.round(n / cpu) }
}
