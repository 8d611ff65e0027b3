// What the Kafka tests share: the broker `npm run services -- kafka` started, fresh topics, plain producers,
// and a read_committed reader of a whole topic through `source.kafka`.
import { randomBytes } from 'node:crypto'
import { serviceOrSkip } from '../support/services.ts'
import { createClient, type KafkaAdmin, type KafkaProducer, type ProducerMessage } from '../../src/connectors/kafka/client.ts'
import { kafka as kafkaSource, type KafkaSourceOptions } from '../../src/connectors/kafka/source.ts'
import { createTopics } from '../../src/connectors/kafka/topics.ts'
import { END } from '../../src/core/source.ts'

export const broker = serviceOrSkip('kafka')
export const bootstrap = (): string => String(broker.info!.bootstrap)

/** A topic name no other test uses. */
export function topicName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export async function withAdmin<R>(f: (admin: KafkaAdmin) => Promise<R>): Promise<R> {
  const admin = createClient({ brokers: bootstrap() }).admin()
  await admin.connect()
  try {
    return await f(admin)
  } finally {
    await admin.disconnect()
  }
}

export async function createTopic(topic: string, partitions = 1): Promise<void> {
  await createTopics(createClient({ brokers: bootstrap() }), [{ topic, numPartitions: partitions, replicationFactor: 1 }])
}

export async function producer(cfg: Record<string, unknown> = {}): Promise<KafkaProducer> {
  const p = createClient({ brokers: bootstrap() }).producer({ createPartitioner: legacyPartitioner(), ...cfg })
  await p.connect()
  return p
}

function legacyPartitioner(): unknown {
  return () =>
    ({ partitionMetadata, message }: { partitionMetadata: unknown[]; message: ProducerMessage }) =>
      (message.partition ?? 0) % partitionMetadata.length
}

/** Every value in `topic` a source with these options delivers, read to the current end (bounded), by partition. */
export async function readAll<T = unknown>(topic: string | string[], options: Partial<KafkaSourceOptions<T>> = {}, seek?: number[]): Promise<T[][]> {
  const reader = await kafkaSource<T>({ brokers: bootstrap(), topics: topic, stopAtEnd: true, pollInterval: '20ms', ...options }).open({
    pipeline: 'check',
    stepId: 'source-1',
    signal: new AbortController().signal,
    malformed: () => undefined,
  })
  try {
    if (seek !== undefined) await reader.seek!(seek)
    const out: T[][] = []
    for (let p = 0; p < reader.partitions; p++) {
      const got: T[] = []
      for (;;) {
        const r = await reader.read(p, 500)
        if (r === END) break
        if (r !== null) got.push(...r.values)
      }
      out.push(got)
    }
    return out
  } finally {
    await reader.close()
  }
}

/** Records of `topic` past its last stable offset (held back by transactions still open), over all partitions. */
export async function openOffsets(topic: string): Promise<number> {
  const { createCluster } = await import('../../src/connectors/kafka/client.ts')
  const client = createClient({ brokers: bootstrap() })
  let total = 0
  for (const isolation of ['read_uncommitted', 'read_committed'] as const) {
    const cluster = createCluster(client, isolation)
    await cluster.connect()
    try {
      await cluster.addMultipleTargetTopics([topic])
      const parts = cluster.findTopicPartitionMetadata(topic)
      const b = await cluster.findBroker({ nodeId: parts[0].leader })
      const res = await b.listOffsets({ replicaId: -1, isolationLevel: isolation === 'read_committed' ? 1 : 0, topics: [{ topic, partitions: parts.map((p) => ({ partition: p.partitionId, timestamp: '-1' })) }] })
      for (const t of res.responses) for (const p of t.partitions) total += (isolation === 'read_committed' ? -1 : 1) * Number(p.offset)
    } finally {
      await cluster.disconnect()
    }
  }
  return total
}

/**
 * What `read` gives once it equals `want`, or after `ms`. A transaction's commit returns once the broker has
 * logged it; its markers reach the partitions a moment later, and only then do read_committed readers see it.
 */
export async function settled<T>(read: () => Promise<T>, want: T, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const got = await read()
    if (JSON.stringify(got) === JSON.stringify(want) || Date.now() > deadline) return got
    await new Promise((r) => setTimeout(r, 100))
  }
}
